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

  var finishReason: String { completion.map { OpenAIFormat.finishReason($0.finishReason) } ?? "abort" }
}

/// Small translations from engine values to OpenAI's wire values.
enum OpenAIFormat {
  static func finishReason(_ r: FinishReason) -> String {
    switch r {
    case .stop: "stop"
    case .length: "length"
    case .abort: "abort"
    case .error: "error"
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
