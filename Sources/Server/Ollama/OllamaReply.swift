import Engine
import Foundation
import Templates

/// One object of an Ollama `/api/chat` or `/api/generate` answer: a streamed piece (`done: false`),
/// or the last one (`done: true`, `done_reason` and the timings, in nanoseconds as Ollama counts
/// them). Chat carries `message`, generate carries `response`.
struct OllamaReply: Sendable, Encodable {
  struct Message: Sendable, Encodable {
    var role = "assistant"
    var content: String
    var thinking: String?
    var toolCalls: [ToolCallWire]?

    enum CodingKeys: String, CodingKey {
      case role, content, thinking
      case toolCalls = "tool_calls"
    }
  }

  /// `{"id", "function": {"index", "name", "arguments": {…}}}`: arguments as an object, as Ollama sends them.
  struct ToolCallWire: Sendable, Encodable {
    struct Function: Sendable, Encodable {
      var index: Int
      var name: String
      var arguments: Templates.JSONValue
    }
    var id: String
    var function: Function

    init(_ call: ToolCall, index: Int) {
      id = call.id
      function = Function(index: index, name: call.name, arguments: call.argumentsObject)
    }
  }

  var model: String
  var createdAt: String
  var message: Message?
  var response: String?
  /// Generate's reasoning (chat's is `message.thinking`).
  var thinking: String?
  var done: Bool
  var doneReason: String?
  var totalDuration: Int?
  var loadDuration: Int?
  var promptEvalCount: Int?
  var promptEvalDuration: Int?
  var evalCount: Int?
  var evalDuration: Int?

  /// A piece of text: a chat message or a generate response, per `chat`.
  init(model: String, chat: Bool, text: String, done: Bool = false) {
    self.model = model
    createdAt = Self.timestamp()
    if chat { message = Message(content: text) } else { response = text }
    self.done = done
  }

  /// Adds reasoning and tool calls (generate has no tool calls).
  mutating func add(thinking: String?, calls: [ToolCall]) {
    if message != nil {
      message?.thinking = thinking
      if !calls.isEmpty { message?.toolCalls = calls.enumerated().map { ToolCallWire($1, index: $0) } }
    } else {
      self.thinking = thinking
    }
  }

  /// Ollama's `done_reason` for how a generation ended; a generation the server cut short
  /// (shutdown) has incomplete text, which `length` tells a client.
  static func doneReason(_ r: FinishReason) -> String {
    switch r {
    case .stop: "stop"
    case .length, .abort, .error: "length"
    }
  }

  /// The final object: all of `text` for a whole answer, empty after a stream.
  static func final(
    model: String, chat: Bool, text: String, completion c: EngineCompletion, promptTokens: Int
  ) -> OllamaReply {
    var r = OllamaReply(model: model, chat: chat, text: text, done: true)
    let t = c.timings
    r.doneReason = doneReason(c.finishReason)
    r.totalDuration = nanoseconds(t.e2eSeconds)
    // The model is loaded before the server listens: no request waits for it.
    r.loadDuration = 0
    r.promptEvalCount = promptTokens
    r.promptEvalDuration = nanoseconds(max(0, t.ttftSeconds - t.queueSeconds))
    r.evalCount = c.completionTokens
    r.evalDuration = nanoseconds(max(0, t.e2eSeconds - t.ttftSeconds))
    return r
  }

  static func nanoseconds(_ seconds: Double) -> Int {
    seconds.isFinite ? Int((seconds * 1e9).rounded()) : 0
  }

  /// RFC 3339 with fractional seconds, as Ollama writes `created_at`.
  static func timestamp(_ date: Date = Date()) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.string(from: date)
  }

  enum CodingKeys: String, CodingKey {
    case model, message, response, thinking, done
    case createdAt = "created_at"
    case doneReason = "done_reason"
    case totalDuration = "total_duration"
    case loadDuration = "load_duration"
    case promptEvalCount = "prompt_eval_count"
    case promptEvalDuration = "prompt_eval_duration"
    case evalCount = "eval_count"
    case evalDuration = "eval_duration"
  }
}
