import Engine

/// What one choice has produced so far, for non-streamed responses and for usage and metrics.
struct ChoiceAccumulator: Sendable {
  var text = ""
  var tokens: [GeneratedToken] = []
  var completion: EngineCompletion?
  /// Seconds-since-arrival of the previous token, for inter-token latency.
  var lastTokenTime: Double?

  mutating func add(_ token: GeneratedToken) {
    text += token.text
    tokens.append(token)
    lastTokenTime = token.time
  }

  /// The engine's reason (`stop`, `length`, `abort`, `error`), as usage records and metrics keep it.
  var finishReason: String { completion?.finishReason.rawValue ?? "abort" }
}

/// Small translations from engine values to OpenAI's wire values.
enum OpenAIFormat {
  /// OpenAI's values only, so strict clients parse every response: a choice the server cut short
  /// (shutdown, engine failure) reports `length`, since its text is incomplete, and says why in
  /// `abort_reason`.
  static func finishReason(_ r: FinishReason) -> String {
    switch r {
    case .stop: "stop"
    case .length, .abort, .error: "length"
    }
  }

  /// The extension field `abort_reason` of a choice that did not end by itself, else nil.
  static func abortReason(_ c: EngineCompletion) -> String? {
    switch c.finishReason {
    case .stop, .length: nil
    case .abort: "shutdown"
    case .error: "error: " + (c.error ?? "the engine failed")
    }
  }

  static func chatLogprob(_ t: GeneratedToken) -> ChatTokenLogprob? {
    guard let lp = t.logprob else { return nil }
    return ChatTokenLogprob(
      token: lp.text, logprob: Double(lp.logprob), bytes: Array(lp.text.utf8),
      topLogprobs: t.topLogprobs.map { .init(token: $0.text, logprob: Double($0.logprob), bytes: Array($0.text.utf8)) })
  }

  /// Appends one token to completions-style logprobs; `offset` is where its text starts in the choice.
  static func appendCompletionLogprob(_ t: GeneratedToken, offset: Int, to out: inout CompletionLogprobs) {
    guard let lp = t.logprob else { return }
    out.tokens.append(lp.text)
    out.tokenLogprobs.append(Double(lp.logprob))
    var top: [String: Double] = [:]
    for alt in t.topLogprobs where top[alt.text] == nil { top[alt.text] = Double(alt.logprob) }
    out.topLogprobs.append(top)
    out.textOffset.append(offset)
  }
}
