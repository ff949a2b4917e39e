import Templates

/// The body of Ollama's `POST /api/chat`. `stream` defaults to true, as Ollama's does.
struct OllamaChatRequest: Sendable, Decodable {
  struct Message: Sendable, Equatable, Decodable {
    var role: String
    var content: String?
    var images: [String]?
    var toolCalls: [Templates.JSONValue]?
    /// The thinking of an earlier assistant turn (not shown to the model again).
    var thinking: String?
    /// A `tool` message's function.
    var toolName: String?

    enum CodingKeys: String, CodingKey {
      case role, content, images, thinking
      case toolCalls = "tool_calls"
      case toolName = "tool_name"
    }
  }

  var model: String?
  var messages: [Message]?
  var stream: Bool?
  /// `"json"`, a JSON schema object, or empty.
  var format: JSONValue?
  var options: OllamaOptions?
  var keepAlive: JSONValue?
  /// OpenAI-shaped: `{"type": "function", "function": {"name", "description", "parameters"}}`.
  var tools: [Templates.JSONValue]?
  /// `true`/`false`, or an effort (`"high"`, …).
  var think: JSONValue?

  enum CodingKeys: String, CodingKey {
    case model, messages, stream, format, options, tools, think
    case keepAlive = "keep_alive"
  }
}
