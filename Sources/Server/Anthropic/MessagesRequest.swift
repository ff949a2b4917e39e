import Templates

/// The body of Anthropic's `POST /v1/messages` (and of `/v1/messages/count_tokens`, which has no
/// `max_tokens`). Fields we do not know are ignored, as Anthropic-compatible servers do.
struct MessagesRequest: Sendable, Decodable {
  /// A content block of a message or of `system`. Only the fields of its `type` are set.
  struct Block: Sendable, Equatable, Decodable {
    var type: String
    /// `text`.
    var text: String?
    /// `thinking` (and its `signature`); `redacted_thinking` carries `data` instead.
    var thinking: String?
    /// `tool_use`: the call's id, the tool's name and its input object.
    var id: String?
    var name: String?
    var input: Templates.JSONValue?
    /// `tool_result`: which call it answers, its content (text or blocks) and whether it failed.
    var toolUseID: String?
    var content: Content?
    var isError: Bool?

    enum CodingKeys: String, CodingKey {
      case type, text, thinking, id, name, input, content
      case toolUseID = "tool_use_id"
      case isError = "is_error"
    }
  }

  /// A string, or a list of content blocks.
  indirect enum Content: Sendable, Equatable, Decodable {
    case text(String)
    case blocks([Block])

    init(from decoder: Decoder) throws {
      let c = try decoder.singleValueContainer()
      if let s = try? c.decode(String.self) {
        self = .text(s)
      } else {
        self = .blocks(try c.decode([Block].self))
      }
    }

    var blocks: [Block] {
      switch self {
      case .text(let s): [Block(type: "text", text: s)]
      case .blocks(let b): b
      }
    }
  }

  struct Message: Sendable, Equatable, Decodable {
    var role: String
    var content: Content
  }

  /// `{"name", "description", "input_schema"}` (client tools); kept as sent.
  struct Tool: Sendable, Equatable, Decodable {
    var type: String?
    var name: String
    var description: String?
    var inputSchema: Templates.JSONValue?

    enum CodingKeys: String, CodingKey {
      case type, name, description
      case inputSchema = "input_schema"
    }
  }

  /// `{"type": "auto" | "any" | "tool" | "none", "name"?, "disable_parallel_tool_use"?}`.
  struct ToolChoice: Sendable, Equatable, Decodable {
    var type: String
    var name: String?
    var disableParallelToolUse: Bool?

    enum CodingKeys: String, CodingKey {
      case type, name
      case disableParallelToolUse = "disable_parallel_tool_use"
    }
  }

  /// `{"type": "enabled", "budget_tokens": N}`, `{"type": "disabled"}`, `{"type": "adaptive"}` or
  /// `{"type": "between_tools"}`.
  struct Thinking: Sendable, Equatable, Decodable {
    var type: String
    var budgetTokens: Int?

    enum CodingKeys: String, CodingKey {
      case type
      case budgetTokens = "budget_tokens"
    }
  }

  /// `{"effort"?, "format"?: {"type": "json_schema", "schema": {…}}}` (structured output).
  struct OutputConfig: Sendable, Equatable, Decodable {
    struct Format: Sendable, Equatable, Decodable {
      var type: String
      var schema: JSONValue?
    }
    var effort: String?
    var format: Format?
  }

  struct Metadata: Sendable, Equatable, Decodable {
    var userID: String?
    enum CodingKeys: String, CodingKey { case userID = "user_id" }
  }

  var model: String?
  var messages: [Message]
  var system: Content?
  var maxTokens: Int?
  var stopSequences: [String]?
  var temperature: Double?
  var topP: Double?
  var topK: Int?
  var metadata: Metadata?
  var stream: Bool?
  var tools: [Tool]?
  var toolChoice: ToolChoice?
  var thinking: Thinking?
  var outputConfig: OutputConfig?
  /// Extensions beyond Anthropic's API, as on the OpenAI routes: a seed for reproducible sampling,
  /// and `cache: false` to skip the result cache.
  var seed: Int64?
  var cache: Bool?

  enum CodingKeys: String, CodingKey {
    case model, messages, system, temperature, metadata, stream, tools, thinking, seed, cache
    case maxTokens = "max_tokens"
    case stopSequences = "stop_sequences"
    case topP = "top_p"
    case topK = "top_k"
    case toolChoice = "tool_choice"
    case outputConfig = "output_config"
  }
}
