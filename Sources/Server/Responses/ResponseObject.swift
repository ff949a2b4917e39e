import Templates

/// OpenAI's Response object (`object: "response"`): what `POST /v1/responses` answers, what
/// `GET /v1/responses/{id}` reads back, and the `response` of the stream's lifecycle events.
/// Keys OpenAI sends as null are sent as null.
struct ResponseObject: Sendable, Encodable {
  /// An output item: the assistant's message (one `output_text` part), its reasoning (one
  /// `reasoning_text` part), or a function call.
  struct OutputItem: Sendable, Encodable {
    var type: String
    var id: String
    var status: String
    var role: String?
    var content: [OutputText]?
    var summary: [JSONValue]?
    var callID: String?
    var name: String?
    var arguments: String?

    static func message(id: String, text: String?, status: String) -> OutputItem {
      OutputItem(type: "message", id: id, status: status, role: "assistant", content: text.map { [OutputText.output($0)] } ?? [])
    }

    static func reasoning(id: String, text: String?, status: String) -> OutputItem {
      OutputItem(type: "reasoning", id: id, status: status, content: text.map { [OutputText.reasoning($0)] } ?? [], summary: [])
    }

    static func functionCall(_ call: ToolCall, status: String, arguments: String? = nil) -> OutputItem {
      OutputItem(
        type: "function_call", id: "fc_" + call.id.dropFirst("call_".count), status: status, callID: call.id,
        name: call.name, arguments: arguments ?? call.arguments)
    }

    enum CodingKeys: String, CodingKey {
      case type, id, status, role, content, summary, name, arguments
      case callID = "call_id"
    }
  }

  /// A content part: `output_text` (with its annotations and log-probabilities) or `reasoning_text`.
  struct OutputText: Sendable, Encodable {
    var type: String
    var text: String
    var annotations: [JSONValue]?
    var logprobs: [JSONValue]?

    static func output(_ text: String) -> OutputText { OutputText(type: "output_text", text: text, annotations: [], logprobs: []) }
    static func reasoning(_ text: String) -> OutputText { OutputText(type: "reasoning_text", text: text) }
  }

  struct IncompleteDetails: Sendable, Encodable {
    var reason: String
  }

  struct Usage: Sendable, Encodable {
    struct InputDetails: Sendable, Encodable {
      var cachedTokens: Int
      enum CodingKeys: String, CodingKey { case cachedTokens = "cached_tokens" }
    }
    struct OutputDetails: Sendable, Encodable {
      var reasoningTokens = 0
      enum CodingKeys: String, CodingKey { case reasoningTokens = "reasoning_tokens" }
    }
    var inputTokens: Int
    var inputTokensDetails: InputDetails
    var outputTokens: Int
    var outputTokensDetails = OutputDetails()
    var totalTokens: Int
    /// Dollars, when the server prices requests (the extension the other routes carry).
    var cost: UsageCost?

    init(inputTokens: Int, cachedTokens: Int, outputTokens: Int, cost: UsageCost?) {
      self.inputTokens = inputTokens
      inputTokensDetails = .init(cachedTokens: cachedTokens)
      self.outputTokens = outputTokens
      totalTokens = inputTokens + outputTokens
      self.cost = cost
    }

    enum CodingKeys: String, CodingKey {
      case cost
      case inputTokens = "input_tokens"
      case inputTokensDetails = "input_tokens_details"
      case outputTokens = "output_tokens"
      case outputTokensDetails = "output_tokens_details"
      case totalTokens = "total_tokens"
    }
  }

  struct Failure: Sendable, Encodable {
    var code: String
    var message: String
  }

  /// The request's settings a response echoes.
  struct Settings: Sendable {
    var instructions: String?
    var maxOutputTokens: Int?
    var temperature: Double?
    var topP: Double?
    var previousResponseID: String?
    var store: Bool
    var user: String?
    var metadata: [String: String]
    var textFormat: JSONValue
    var tools: [Templates.JSONValue] = []
    var toolChoice: Templates.JSONValue = .string("auto")
    var parallelToolCalls = true
  }

  var id: String
  var createdAt: Int
  var model: String
  /// `in_progress`, `completed`, `incomplete` or `failed`.
  var status: String
  var output: [OutputItem]
  var settings: Settings
  var incompleteDetails: IncompleteDetails?
  var error: Failure?
  var usage: Usage?

  func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(id, forKey: .id)
    try c.encode("response", forKey: .object)
    try c.encode(createdAt, forKey: .createdAt)
    try c.encode(status, forKey: .status)
    try c.encode(error, forKey: .error)
    try c.encode(incompleteDetails, forKey: .incompleteDetails)
    try c.encode(settings.instructions, forKey: .instructions)
    try c.encode(settings.maxOutputTokens, forKey: .maxOutputTokens)
    try c.encode(model, forKey: .model)
    try c.encode(output, forKey: .output)
    try c.encode(settings.parallelToolCalls, forKey: .parallelToolCalls)
    try c.encode(settings.previousResponseID, forKey: .previousResponseID)
    try c.encode(JSONValue.object(["effort": .null, "summary": .null]), forKey: .reasoning)
    try c.encode(settings.store, forKey: .store)
    try c.encode(settings.temperature, forKey: .temperature)
    try c.encode(JSONValue.object(["format": settings.textFormat]), forKey: .text)
    try c.encode(settings.toolChoice, forKey: .toolChoice)
    try c.encode(settings.tools, forKey: .tools)
    try c.encode(settings.topP, forKey: .topP)
    try c.encode("disabled", forKey: .truncation)
    try c.encode(usage, forKey: .usage)
    try c.encode(settings.user, forKey: .user)
    try c.encode(settings.metadata, forKey: .metadata)
  }

  enum CodingKeys: String, CodingKey {
    case id, object, status, error, instructions, model, output, reasoning, store, temperature, text, tools
    case truncation, usage, user, metadata
    case createdAt = "created_at"
    case incompleteDetails = "incomplete_details"
    case maxOutputTokens = "max_output_tokens"
    case parallelToolCalls = "parallel_tool_calls"
    case previousResponseID = "previous_response_id"
    case toolChoice = "tool_choice"
    case topP = "top_p"
  }
}

/// `DELETE /v1/responses/{id}`.
struct ResponseDeleted: Sendable, Encodable {
  var id: String
  var object = "response"
  var deleted = true
}
