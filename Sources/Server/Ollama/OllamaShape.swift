import Engine
import Foundation

/// Ollama output: one JSON object, or NDJSON lines (one per piece of text, `thinking` apart from
/// `content`, the tool calls in one line at the end, then the `done` line with the timings). A
/// generation that fails mid-stream ends with an `{"error": …}` line, as Ollama's does.
struct OllamaShape: ResponseShape {
  let plan: GenerationPlan
  /// Reasoning and tool calls split out of the text as it streams (nil: plain text, or raw generate).
  private var splitter: ChatOutputSplitter?
  private var failed = false

  init(plan: GenerationPlan) {
    self.plan = plan
    splitter = plan.chatOutput.map(ChatOutputSplitter.init)
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
    let split = RequestMapper.split(choices.first, plan: plan)
    var reply = finalReply(choices.first, text: split.content)
    reply.add(thinking: split.reasoning, calls: split.toolCalls)
    return SSEEncoder.json(reply)
  }

  func opening(choice: Int) -> [Data] { [] }

  private func piece(_ d: ChatOutputDelta) -> Data? {
    switch d {
    case .content(let c):
      return c.isEmpty ? nil : Self.line(OllamaReply(model: plan.model, chat: chat, text: c))
    case .reasoning(let r):
      guard !r.isEmpty else { return nil }
      var reply = OllamaReply(model: plan.model, chat: chat, text: "")
      reply.add(thinking: r, calls: [])
      return Self.line(reply)
    }
  }

  mutating func token(_ t: GeneratedToken, choice: Int, textOffset: Int) -> [Data] {
    guard !t.text.isEmpty else { return [] }
    if splitter != nil { return splitter!.feed(t.text).compactMap(piece) }
    return [Self.line(OllamaReply(model: plan.model, chat: chat, text: t.text))]
  }

  mutating func final(_ c: EngineCompletion, choice: Int) -> [Data] {
    guard c.finishReason != .error else {
      failed = true
      return [Self.line(["error": "generation failed: \(c.error ?? "the engine failed")"])]
    }
    guard splitter != nil else { return [] }
    let end = splitter!.finish(plan: plan)
    var out = end.deltas.compactMap(piece)
    if !end.calls.isEmpty, chat {
      var reply = OllamaReply(model: plan.model, chat: true, text: "")
      reply.add(thinking: nil, calls: end.calls)
      out.append(Self.line(reply))
    }
    return out
  }

  func closing(_ choices: [ChoiceAccumulator], cost: UsageCost?) -> [Data] {
    failed ? [] : [Self.line(finalReply(choices.first, text: ""))]
  }
}
