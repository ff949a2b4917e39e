import Accounts

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
  /// Dollars, when the server has a price table or a machine cost (`--price`, `--machine-cost-per-hour`).
  var cost: UsageCost?

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
    case cost
  }
}

/// `usage.cost`: what the request is charged (input, output, total) and, when the server knows
/// what its machine costs, what serving it cost (`machine`).
struct UsageCost: Sendable, Equatable, Codable {
  var input: Double
  var output: Double
  var total: Double
  var machine: Double?
  var currency = "usd"

  init(_ c: Accounts.Cost, machineKnown: Bool) {
    input = c.input
    output = c.output
    total = c.total
    machine = machineKnown ? c.machine : nil
  }
}
