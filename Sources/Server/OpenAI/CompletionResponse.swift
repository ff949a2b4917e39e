/// `choices[i].logprobs` of the completions API: parallel arrays over the returned tokens.
struct CompletionLogprobs: Sendable, Equatable, Codable {
  var tokens: [String] = []
  var tokenLogprobs: [Double?] = []
  var topLogprobs: [[String: Double]?] = []
  /// Character offset of each token in the choice's text.
  var textOffset: [Int] = []

  enum CodingKeys: String, CodingKey {
    case tokens
    case tokenLogprobs = "token_logprobs"
    case topLogprobs = "top_logprobs"
    case textOffset = "text_offset"
  }
}

/// The body of a completion, whole or as one streamed chunk (the API uses one shape for both).
struct CompletionResponse: Sendable, Encodable {
  struct Choice: Sendable, Encodable {
    var index: Int
    var text: String
    var logprobs: CompletionLogprobs?
    var finishReason: String?
    /// Extension: why a choice was cut short (`finish_reason` is then `length`); absent otherwise.
    var abortReason: String?

    enum CodingKeys: String, CodingKey {
      case index, text, logprobs
      case finishReason = "finish_reason"
      case abortReason = "abort_reason"
    }
  }

  var id: String
  var object = "text_completion"
  var created: Int
  var model: String
  var choices: [Choice]
  var usage: Usage?
  var systemFingerprint: String?
  var timings: ResponseTimings?

  enum CodingKeys: String, CodingKey {
    case id, object, created, model, choices, usage, timings
    case systemFingerprint = "system_fingerprint"
  }
}
