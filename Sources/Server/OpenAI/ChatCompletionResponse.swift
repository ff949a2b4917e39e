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
  /// `content` is always present (null when the answer is only tool calls, as OpenAI sends it);
  /// `reasoning_content` (DeepSeek's and llama-server's name) and `reasoning` (newer clients') carry
  /// the same thinking text when there is any.
  struct Message: Sendable, Encodable {
    var role = "assistant"
    var content: String?
    var reasoning: String?
    var toolCalls: [ChatToolCall]?

    enum CodingKeys: String, CodingKey {
      case role, content, reasoning
      case reasoningContent = "reasoning_content"
      case toolCalls = "tool_calls"
    }

    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(role, forKey: .role)
      try c.encode(content, forKey: .content)
      if let reasoning {
        try c.encode(reasoning, forKey: .reasoningContent)
        try c.encode(reasoning, forKey: .reasoning)
      }
      if let toolCalls, !toolCalls.isEmpty { try c.encode(toolCalls, forKey: .toolCalls) }
    }
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
    /// Thinking text, under both names (as in whole responses).
    var reasoningContent: String?
    var reasoning: String?
    var toolCalls: [ChatToolCallDelta]?

    enum CodingKeys: String, CodingKey {
      case role, content, reasoning
      case reasoningContent = "reasoning_content"
      case toolCalls = "tool_calls"
    }
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

/// One call in `message.tool_calls`; `arguments` is JSON text.
struct ChatToolCall: Sendable, Equatable, Encodable {
  struct Function: Sendable, Equatable, Encodable {
    var name: String
    var arguments: String
  }

  var id: String
  var type = "function"
  var function: Function

  init(_ call: ToolCall) {
    id = call.id
    function = Function(name: call.name, arguments: call.arguments)
  }
}

/// A piece of a streamed call: the first for an index carries `id`, `type` and the name, later
/// ones argument text to append.
struct ChatToolCallDelta: Sendable, Equatable, Encodable {
  struct Function: Sendable, Equatable, Encodable {
    var name: String?
    var arguments: String?
  }

  var index: Int
  var id: String?
  var type: String?
  var function: Function
}
