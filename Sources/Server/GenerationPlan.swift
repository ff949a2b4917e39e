import Engine

/// Everything a route needs to run one OpenAI request: the engine requests (one per choice, in
/// choice order: prompt-major, then `n`) and how to present their output.
struct GenerationPlan: Sendable {
  enum Endpoint: String, Sendable {
    case chat = "chat.completions"
    case completions
  }

  var endpoint: Endpoint
  /// The response's id (`chatcmpl-…` / `cmpl-…`); engine request ids derive from it.
  var id: String
  var requests: [EngineRequest]
  /// Choices per prompt.
  var n: Int
  /// Token count of each distinct prompt.
  var promptTokenCounts: [Int]
  var stream: Bool
  var includeUsage: Bool
  /// Alternatives per token to report; nil reports no log-probabilities at all.
  var logprobs: Int?
  /// Completions only: the prompt text to put before each choice's text.
  var echoTexts: [String]?
  var user: String?
  var model: String
  /// `max_tokens` was left out: a metered caller's default may shrink to what its allowance covers.
  var defaultedMaxTokens = false
  /// Deterministic (greedy or seeded) and not opted out: the result cache may answer it.
  var cacheable = false
  /// What `response_format` asked for, as part of the result-cache key (the constraint itself is opaque).
  var outputFormatKey: String?
  /// Chat only: keep the request and response (`store: true`), with these labels.
  var store = false
  var metadata: [String: String]?
  /// Chat only: how to split the output into reasoning, content and tool calls; nil for plain text.
  var chatOutput: ChatOutputOptions?

  /// Which prompt a choice belongs to.
  func promptIndex(ofChoice choice: Int) -> Int { choice / n }
}
