/// A token's natural-log probability under the model's full-vocabulary softmax (before sampling
/// filters), with the token's text.
public struct TokenLogprob: Sendable, Equatable, Codable {
  public var id: Int32
  public var text: String
  public var logprob: Float
}

/// One generated token as the engine reports it.
public struct GeneratedToken: Sendable, Equatable {
  public var id: Int32
  /// New complete UTF-8 text this token adds (may be empty: half a character, or held back while it
  /// might begin a stop sequence).
  public var text: String
  /// The chosen token's log-probability, and the top alternatives, when the request asked.
  public var logprob: TokenLogprob?
  public var topLogprobs: [TokenLogprob]
  /// Seconds since the request arrived.
  public var time: Double
}

/// What the user felt of one request, on the monotonic clock.
public struct RequestTimings: Sendable, Equatable, Codable {
  /// Arrival to first scheduled.
  public var queueSeconds: Double = 0
  /// Arrival to first token.
  public var ttftSeconds: Double = 0
  /// Arrival to finish.
  public var e2eSeconds: Double = 0
  /// Prompt tokens computed (not taken from the prefix cache) per second of prefill.
  public var prefillTokensPerSecond: Double = 0
  /// Tokens after the first, over the time after the first.
  public var decodeTokensPerSecond: Double = 0
  /// Speculative decoding only (nil without): draft tokens checked and accepted, their ratio, and
  /// the mean number of tokens each checking pass produced (accepted drafts + 1).
  public var draftTokens: Int? = nil
  public var acceptedTokens: Int? = nil
  public var acceptanceRate: Double? = nil
  public var meanAcceptedLength: Double? = nil

  enum CodingKeys: String, CodingKey {
    case queueSeconds = "queue_s"
    case ttftSeconds = "ttft_s"
    case e2eSeconds = "e2e_s"
    case prefillTokensPerSecond = "prefill_tokens_per_second"
    case decodeTokensPerSecond = "decode_tokens_per_second"
    case draftTokens = "draft_tokens"
    case acceptedTokens = "accepted_tokens"
    case acceptanceRate = "acceptance_rate"
    case meanAcceptedLength = "mean_accepted_length"
  }

  public init() {}
}

/// How a request ended.
public struct EngineCompletion: Sendable, Equatable {
  public var finishReason: FinishReason
  public var promptTokens: Int
  public var completionTokens: Int
  /// Prompt tokens served from the prefix cache instead of computed.
  public var cachedPromptTokens: Int
  /// Times the request was preempted and recomputed.
  public var preemptions: Int
  public var timings: RequestTimings
  /// Set when finishReason is `.error`.
  public var error: String?
  /// The stop sequence that ended the text, when one did (Anthropic's `stop_sequence`).
  public var stopSequence: String? = nil
}

/// The stream of a submitted request: tokens, then exactly one `finished`.
public enum EngineEvent: Sendable, Equatable {
  case token(GeneratedToken)
  case finished(EngineCompletion)
}
