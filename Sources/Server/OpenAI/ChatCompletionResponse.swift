/// One alternative token and its log-probability, in the chat API's shape.
struct ChatTokenLogprob: Sendable, Equatable, Codable {
  struct Alternative: Sendable, Equatable, Codable {
    var token: String
    var logprob: Double
    var bytes: [UInt8]?
  }

  var token: String
  var logprob: Double
  var bytes: [UInt8]?
  var topLogprobs: [Alternative]

  enum CodingKeys: String, CodingKey {
    case token, logprob, bytes
    case topLogprobs = "top_logprobs"
  }
}

/// `choices[i].logprobs` of the chat API.
struct ChatLogprobs: Sendable, Equatable, Codable {
  var content: [ChatTokenLogprob]
}

/// The body of a non-streamed chat completion.
struct ChatCompletionResponse: Sendable, Encodable {
  struct Message: Sendable, Encodable {
    var role = "assistant"
    var content: String
  }

  struct Choice: Sendable, Encodable {
    var index: Int
    var message: Message
    var logprobs: ChatLogprobs?
    var finishReason: String
    /// Extension: why a choice was cut short (`finish_reason` is then `length`); absent otherwise.
    var abortReason: String?

    enum CodingKeys: String, CodingKey {
      case index, message, logprobs
      case finishReason = "finish_reason"
      case abortReason = "abort_reason"
    }
  }

  var id: String
  var object = "chat.completion"
  var created: Int
  var model: String
  var choices: [Choice]
  var usage: Usage
  var systemFingerprint: String?
  /// Per choice, in choice order (extension).
  var timings: ResponseTimings?

  enum CodingKeys: String, CodingKey {
    case id, object, created, model, choices, usage, timings
    case systemFingerprint = "system_fingerprint"
  }
}

/// One server-sent event of a streamed chat completion.
struct ChatCompletionChunk: Sendable, Encodable {
  struct Delta: Sendable, Encodable {
    var role: String?
    var content: String?
  }

  struct Choice: Sendable, Encodable {
    var index: Int
    var delta: Delta
    var logprobs: ChatLogprobs?
    var finishReason: String?
    var abortReason: String?

    enum CodingKeys: String, CodingKey {
      case index, delta, logprobs
      case finishReason = "finish_reason"
      case abortReason = "abort_reason"
    }
  }

  var id: String
  var object = "chat.completion.chunk"
  var created: Int
  var model: String
  var choices: [Choice]
  var usage: Usage?
  var timings: ResponseTimings?
}
