/// The body of `POST /v1/completions` (the legacy text completion API).
struct CompletionRequest: Sendable, Decodable {
  /// `prompt`: a string, a list of strings, a list of token ids, or a list of such lists. Each
  /// element is one prompt; every prompt gets `n` choices.
  enum Prompt: Sendable, Equatable, Decodable {
    case texts([String])
    case tokens([[Int32]])

    init(from decoder: Decoder) throws {
      let c = try decoder.singleValueContainer()
      if let s = try? c.decode(String.self) {
        self = .texts([s])
      } else if let list = try? c.decode([String].self) {
        self = .texts(list)
      } else if let ids = try? c.decode([Int32].self) {
        self = .tokens([ids])
      } else if let lists = try? c.decode([[Int32]].self) {
        self = .tokens(lists)
      } else {
        throw DecodingError.typeMismatch(
          Prompt.self,
          .init(
            codingPath: decoder.codingPath,
            debugDescription:
              "expected a string, a list of strings, a list of token ids or a list of lists of token ids"))
      }
    }

    var count: Int {
      switch self {
      case .texts(let t): t.count
      case .tokens(let t): t.count
      }
    }
  }

  var model: String?
  var prompt: Prompt
  var suffix: String?
  var maxTokens: Int?
  var temperature: Double?
  var topP: Double?
  var topK: Int?
  var minP: Double?
  var n: Int?
  var bestOf: Int?
  var stop: StopSequences?
  var seed: Int64?
  var presencePenalty: Double?
  var frequencyPenalty: Double?
  var repetitionPenalty: Double?
  var logitBias: [String: Double]?
  /// Alternatives per token to report (0–20); absent for none.
  var logprobs: Int?
  var echo: Bool?
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
  /// `false` bypasses the result cache (as `Cache-Control: no-cache` does).
  var cache: Bool?

  enum CodingKeys: String, CodingKey {
    case model, prompt, suffix, temperature, n, stop, seed, logprobs, echo, user, stream
    case maxTokens = "max_tokens"
    case topP = "top_p"
    case topK = "top_k"
    case minP = "min_p"
    case bestOf = "best_of"
    case presencePenalty = "presence_penalty"
    case frequencyPenalty = "frequency_penalty"
    case repetitionPenalty = "repetition_penalty"
    case logitBias = "logit_bias"
    case ignoreEOS = "ignore_eos"
    case responseFormat = "response_format"
    case streamOptions = "stream_options"
    case speculative
    case draftTokens = "draft_tokens"
    case cacheSalt = "cache_salt"
    case cache
  }
}
