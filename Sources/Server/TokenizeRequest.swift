/// `POST /tokenize`: text (vLLM's `prompt` or llama-server's `content`) or chat `messages` to ids.
struct TokenizeRequest: Sendable, Decodable {
  var model: String?
  var prompt: String?
  var content: String?
  var messages: [ChatCompletionRequest.Message]?
  /// Add BOS as the model wants it (default true, as vLLM).
  var addSpecialTokens: Bool?

  enum CodingKeys: String, CodingKey {
    case model, prompt, content, messages
    case addSpecialTokens = "add_special_tokens"
  }
}

struct TokenizeResponse: Sendable, Encodable {
  var tokens: [Int32]
  var count: Int
  var maxModelLen: Int

  enum CodingKeys: String, CodingKey {
    case tokens, count
    case maxModelLen = "max_model_len"
  }
}

/// `POST /detokenize`: ids to text.
struct DetokenizeRequest: Sendable, Decodable {
  var model: String?
  var tokens: [Int32]
}

struct DetokenizeResponse: Sendable, Encodable {
  /// vLLM's name for the text.
  var prompt: String
  /// llama-server's name for the same text.
  var content: String
}
