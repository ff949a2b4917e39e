import Templates

/// Anthropic's Message object: the whole response of `POST /v1/messages`, and (with no content and
/// no stop reason yet) the `message` of a stream's `message_start` event.
struct AnthropicMessage: Sendable, Encodable {
  var id: String
  var model: String
  var content: [ContentBlock]
  /// `end_turn`, `max_tokens`, `stop_sequence` or `tool_use`; null until the message ends.
  var stopReason: String?
  var stopSequence: String?
  var usage: AnthropicUsage

  func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(id, forKey: .id)
    try c.encode("message", forKey: .type)
    try c.encode("assistant", forKey: .role)
    try c.encode(model, forKey: .model)
    try c.encode(content, forKey: .content)
    // Anthropic sends these as null rather than leaving them out.
    try c.encode(stopReason, forKey: .stopReason)
    try c.encode(stopSequence, forKey: .stopSequence)
    try c.encode(usage, forKey: .usage)
  }

  enum CodingKeys: String, CodingKey {
    case id, type, role, model, content, usage
    case stopReason = "stop_reason"
    case stopSequence = "stop_sequence"
  }
}

/// One block of a response's `content`: text, thinking, or a tool call.
struct ContentBlock: Sendable, Equatable, Encodable {
  var type: String
  var text: String?
  var thinking: String?
  var signature: String?
  var id: String?
  var name: String?
  var input: Templates.JSONValue?

  static func text(_ s: String) -> ContentBlock { ContentBlock(type: "text", text: s) }
}

/// Token counts as Anthropic reports them: `input_tokens` excludes what was read from the prompt
/// cache, which `cache_read_input_tokens` counts (their sum is the whole prompt).
struct AnthropicUsage: Sendable, Equatable, Encodable {
  var inputTokens: Int?
  var outputTokens: Int
  var cacheCreationInputTokens: Int?
  var cacheReadInputTokens: Int?
  /// Dollars, when the server prices requests (the same extension the OpenAI routes carry).
  var cost: UsageCost?

  init(promptTokens: Int, cachedTokens: Int, outputTokens: Int, cost: UsageCost? = nil) {
    inputTokens = promptTokens - cachedTokens
    self.outputTokens = outputTokens
    cacheCreationInputTokens = 0
    cacheReadInputTokens = cachedTokens
    self.cost = cost
  }

  /// `message_delta`'s usage: the output so far only.
  init(outputTokens: Int) {
    self.outputTokens = outputTokens
  }

  enum CodingKeys: String, CodingKey {
    case cost
    case inputTokens = "input_tokens"
    case outputTokens = "output_tokens"
    case cacheCreationInputTokens = "cache_creation_input_tokens"
    case cacheReadInputTokens = "cache_read_input_tokens"
  }
}

/// `POST /v1/messages/count_tokens`.
struct MessageTokenCount: Sendable, Encodable {
  var inputTokens: Int
  enum CodingKeys: String, CodingKey { case inputTokens = "input_tokens" }
}
