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
    case store, metadata, cache
  }
}
