import Foundation
import Templates

/// The body of `POST /v1/chat/completions`. Fields we do not know (e.g. `cache_prompt`) are ignored,
/// as OpenAI-compatible servers do.
struct ChatCompletionRequest: Sendable, Decodable {
  /// One message of the conversation; `content` is a string or a list of content parts.
  struct Message: Sendable, Equatable, Decodable {
    struct ContentPart: Sendable, Equatable, Decodable {
      var type: String
      var text: String?
    }

    enum Content: Sendable, Equatable, Decodable {
      case text(String)
      case parts([ContentPart])

      init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
          self = .text(s)
        } else {
          self = .parts(try c.decode([ContentPart].self))
        }
      }
    }

    var role: String
    var content: Content?
    var name: String?
    /// An assistant turn's calls (OpenAI's `{"id","type","function":{"name","arguments"}}`).
    var toolCalls: [Templates.JSONValue]?
    /// A `tool` message: which call it answers.
    var toolCallID: String?

    enum CodingKeys: String, CodingKey {
      case role, content, name
      case toolCalls = "tool_calls"
      case toolCallID = "tool_call_id"
    }

    init(role: String, content: Content?, name: String? = nil) {
      self.role = role
      self.content = content
      self.name = name
    }
  }

  /// `tool_choice`: `"auto"`, `"none"`, `"required"` or `{"type":"function","function":{"name":…}}`.
  enum ToolChoiceValue: Sendable, Equatable, Decodable {
    case mode(String)
    case function(String)

    init(from decoder: Decoder) throws {
      let c = try decoder.singleValueContainer()
      if let s = try? c.decode(String.self) {
        self = .mode(s)
        return
      }
      struct Named: Decodable {
        struct Function: Decodable { var name: String }
        var type: String?
        var function: Function?
        var name: String?
      }
      let named = try c.decode(Named.self)
      guard let name = named.function?.name ?? named.name else {
        throw DecodingError.dataCorruptedError(
          in: c, debugDescription: "tool_choice must be 'auto', 'none', 'required' or {\"type\": \"function\", \"function\": {\"name\": …}}")
      }
      self = .function(name)
    }
  }

  var model: String?
  var messages: [Message]
  var maxTokens: Int?
  var maxCompletionTokens: Int?
  var temperature: Double?
  var topP: Double?
  var topK: Int?
  var minP: Double?
  var n: Int?
  var stop: StopSequences?
  var seed: Int64?
  var presencePenalty: Double?
  var frequencyPenalty: Double?
  var repetitionPenalty: Double?
  var logitBias: [String: Double]?
  var logprobs: Bool?
  var topLogprobs: Int?
  var user: String?
  var ignoreEOS: Bool?
  var responseFormat: ResponseFormat?
  var stream: Bool?
  var streamOptions: StreamOptions?
  /// Extension: speculative decoding for this request, "ngram" or "none" (default: the server's).
  var speculative: String?
  /// Extension: draft tokens per target pass at most (1–64).
  var draftTokens: Int?
  /// vLLM's extension: prompt-cache entries are shared only between requests with equal salts.
  var cacheSalt: String?
  /// Keep the request and its output for `GET /v1/chat/completions` (OpenAI's stored completions).
  var store: Bool?
  /// Labels stored with a stored completion (OpenAI: up to 16 string pairs).
  var metadata: [String: String]?
  /// `false` bypasses the result cache (as `Cache-Control: no-cache` does).
  var cache: Bool?
  /// Functions the model may call (`{"type":"function","function":{"name","description","parameters"}}`).
  var tools: [Templates.JSONValue]?
  var toolChoice: ToolChoiceValue?
  var parallelToolCalls: Bool?
  /// Extra chat-template variables (vLLM's and llama-server's `chat_template_kwargs`, e.g.
  /// Qwen3's `{"enable_thinking": false}`).
  var chatTemplateKwargs: [String: Templates.JSONValue]?
  /// `low` | `medium` | `high`: a thinking-token budget (see `ReasoningBudget`).
  var reasoningEffort: String?
  /// Extension: the thinking-token budget itself (overrides `reasoning_effort`).
  var thinkingBudget: Int?
  /// The body as parsed with its members in document order (set by the route, `ordered(_:document:)`):
  /// the messages the template sees are the client's objects, members and all.
  var ordered: Templates.JSONValue?

  enum CodingKeys: String, CodingKey {
    case model, messages, temperature, n, stop, seed, logprobs, user, stream
    case maxTokens = "max_tokens"
    case maxCompletionTokens = "max_completion_tokens"
    case topP = "top_p"
    case topK = "top_k"
    case minP = "min_p"
    case presencePenalty = "presence_penalty"
    case frequencyPenalty = "frequency_penalty"
    case repetitionPenalty = "repetition_penalty"
    case logitBias = "logit_bias"
    case topLogprobs = "top_logprobs"
    case ignoreEOS = "ignore_eos"
    case responseFormat = "response_format"
    case streamOptions = "stream_options"
    case speculative
    case draftTokens = "draft_tokens"
    case cacheSalt = "cache_salt"
    case store, metadata, cache, tools
    case toolChoice = "tool_choice"
    case parallelToolCalls = "parallel_tool_calls"
    case chatTemplateKwargs = "chat_template_kwargs"
    case reasoningEffort = "reasoning_effort"
    case thinkingBudget = "thinking_budget"
  }
}

extension ChatCompletionRequest {
  /// The body in document order (`document`, the parse it was decoded with), when it carries tools
  /// or tool calls, whose messages the template then sees as the client wrote them; nil otherwise.
  static func ordered(_ raw: Data, document: Templates.JSONValue?) -> Templates.JSONValue? {
    raw.range(of: Data("tool".utf8)) == nil ? nil : document
  }
}
