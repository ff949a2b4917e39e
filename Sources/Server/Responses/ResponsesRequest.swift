import Templates

/// The body of OpenAI's `POST /v1/responses` (and of `/v1/responses/input_tokens`). Fields we do not
/// know are ignored, as OpenAI-compatible servers do.
struct ResponsesRequest: Sendable, Decodable {
  /// `input`: one user text, or a list of items.
  enum Input: Sendable, Equatable, Decodable {
    case text(String)
    case items([ResponseItem])

    init(from decoder: Decoder) throws {
      let c = try decoder.singleValueContainer()
      if let s = try? c.decode(String.self) {
        self = .text(s)
      } else {
        self = .items(try c.decode([ResponseItem].self))
      }
    }

    var items: [ResponseItem] {
      switch self {
      case .text(let s): [ResponseItem(type: "message", role: "user", content: .text(s))]
      case .items(let items): items
      }
    }
  }

  /// `text`: the output format (`{"format": {"type": "text" | "json_object" | "json_schema", …}}`).
  struct TextOptions: Sendable, Equatable, Decodable {
    struct Format: Sendable, Equatable, Decodable {
      var type: String
      var name: String?
      var schema: JSONValue?
      var strict: Bool?
    }
    var format: Format?
  }

  var model: String?
  var input: Input?
  var instructions: String?
  var maxOutputTokens: Int?
  var temperature: Double?
  var topP: Double?
  var stream: Bool?
  /// Keep the response for `GET /v1/responses/{id}` and `previous_response_id` (default true, as OpenAI).
  var store: Bool?
  var previousResponseID: String?
  var metadata: [String: String]?
  var user: String?
  var text: TextOptions?
  var tools: [Templates.JSONValue]?
  var toolChoice: Templates.JSONValue?
  var parallelToolCalls: Bool?
  var reasoning: Templates.JSONValue?
  var truncation: String?
  var background: Bool?
  var conversation: JSONValue?
  /// Extensions beyond OpenAI's API, as on the other routes.
  var topK: Int?
  var seed: Int64?
  var stop: StopSequences?
  var cache: Bool?

  enum CodingKeys: String, CodingKey {
    case model, input, instructions, temperature, stream, store, metadata, user, text, tools, reasoning
    case truncation, background, conversation, seed, stop, cache
    case maxOutputTokens = "max_output_tokens"
    case topP = "top_p"
    case previousResponseID = "previous_response_id"
    case toolChoice = "tool_choice"
    case parallelToolCalls = "parallel_tool_calls"
    case topK = "top_k"
  }
}

/// One item of a conversation: a message (`role`, `content`), a function call (`call_id`, `name`,
/// `arguments`) or its output (`call_id`, `output`), a reasoning item, or an item reference.
/// Decoded from requests and encoded into the response store, so only the fields of its type are set.
struct ResponseItem: Sendable, Equatable, Codable {
  /// Text, or a list of content parts (`input_text`, `output_text`, …).
  enum Content: Sendable, Equatable, Codable {
    case text(String)
    case parts([Part])

    init(from decoder: Decoder) throws {
      let c = try decoder.singleValueContainer()
      if let s = try? c.decode(String.self) {
        self = .text(s)
      } else {
        self = .parts(try c.decode([Part].self))
      }
    }

    func encode(to encoder: Encoder) throws {
      var c = encoder.singleValueContainer()
      switch self {
      case .text(let s): try c.encode(s)
      case .parts(let p): try c.encode(p)
      }
    }
  }

  struct Part: Sendable, Equatable, Codable {
    var type: String
    var text: String?
  }

  /// Absent on a plain `{"role", "content"}` message (OpenAI's easy input message).
  var type: String?
  var id: String?
  var role: String?
  var content: Content?
  var status: String?
  var callID: String?
  var name: String?
  var arguments: String?
  var output: Content?

  enum CodingKeys: String, CodingKey {
    case type, id, role, content, status, name, arguments, output
    case callID = "call_id"
  }
}
