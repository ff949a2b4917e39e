/// Token counts of one response, as OpenAI reports them.
struct Usage: Sendable, Equatable, Codable {
  struct PromptDetails: Sendable, Equatable, Codable {
    var cachedTokens: Int
    enum CodingKeys: String, CodingKey { case cachedTokens = "cached_tokens" }
  }

  var promptTokens: Int
  var completionTokens: Int
  var totalTokens: Int
  var promptTokensDetails: PromptDetails?

  init(promptTokens: Int, completionTokens: Int, cachedTokens: Int = 0) {
    self.promptTokens = promptTokens
    self.completionTokens = completionTokens
    self.totalTokens = promptTokens + completionTokens
    self.promptTokensDetails = PromptDetails(cachedTokens: cachedTokens)
  }

  enum CodingKeys: String, CodingKey {
    case promptTokens = "prompt_tokens"
    case completionTokens = "completion_tokens"
    case totalTokens = "total_tokens"
    case promptTokensDetails = "prompt_tokens_details"
  }
}
