import Engine
import Foundation

/// Ollama output: one JSON object, or NDJSON lines (one per token, then the `done` line with the
/// timings). A generation that fails mid-stream ends with an `{"error": …}` line, as Ollama's does.
struct OllamaShape: ResponseShape {
  let plan: GenerationPlan
  private var failed = false

  init(plan: GenerationPlan) {
    self.plan = plan
  }

  var streamContentType: String { "application/x-ndjson" }
  private var chat: Bool { plan.endpoint == .ollamaChat }

  static func line(_ value: some Encodable) -> Data {
    var out = SSEEncoder.json(value)
    out.append(0x0A)
    return out
  }

  private func finalReply(_ c: ChoiceAccumulator?, text: String) -> OllamaReply {
    guard let done = c?.completion else { return OllamaReply(model: plan.model, chat: chat, text: text, done: true) }
    return .final(
      model: plan.model, chat: chat, text: text, completion: done, promptTokens: plan.promptTokenCounts.reduce(0, +))
  }

  func whole(_ choices: [ChoiceAccumulator], cost: UsageCost?) -> Data {
    SSEEncoder.json(finalReply(choices.first, text: choices.first?.text ?? ""))
  }

  func opening(choice: Int) -> [Data] { [] }

  func token(_ t: GeneratedToken, choice: Int, textOffset: Int) -> [Data] {
    guard !t.text.isEmpty else { return [] }
    return [Self.line(OllamaReply(model: plan.model, chat: chat, text: t.text))]
  }

  mutating func final(_ c: EngineCompletion, choice: Int) -> [Data] {
    guard c.finishReason == .error else { return [] }
    failed = true
    return [Self.line(["error": "generation failed: \(c.error ?? "the engine failed")"])]
  }

  func closing(_ choices: [ChoiceAccumulator], cost: UsageCost?) -> [Data] {
    failed ? [] : [Self.line(finalReply(choices.first, text: ""))]
  }
}
