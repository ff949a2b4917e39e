import Engine
import Foundation

/// Anthropic Messages output: a Message object, or its stream of named events in Anthropic's
/// order: `message_start`, `content_block_start`, `ping`, `content_block_delta`…,
/// `content_block_stop`, `message_delta` (stop reason, output usage), `message_stop`. A generation
/// that fails mid-stream ends with an `error` event instead, as Anthropic's does.
struct MessagesShape: ResponseShape {
  let plan: GenerationPlan
  /// The text block is open (its start was sent and its stop not yet).
  private var openBlock = false
  private var failed = false

  init(plan: GenerationPlan) {
    self.plan = plan
  }

  static func stopReason(_ c: EngineCompletion?) -> String {
    guard let c else { return "max_tokens" }
    switch c.finishReason {
    case .stop: return c.stopSequence == nil ? "end_turn" : "stop_sequence"
    // Cut short by the server (shutdown): the text is incomplete, which `max_tokens` tells a client.
    case .length, .abort, .error: return "max_tokens"
    }
  }

  private var promptTokens: Int { plan.promptTokenCounts.reduce(0, +) }

  func whole(_ choices: [ChoiceAccumulator], cost: UsageCost?) -> Data {
    let c = choices.first
    let done = c?.completion
    return SSEEncoder.json(
      AnthropicMessage(
        id: plan.id, model: plan.model, content: [.text(c?.text ?? "")], stopReason: Self.stopReason(done),
        stopSequence: done?.stopSequence,
        usage: AnthropicUsage(
          promptTokens: promptTokens, cachedTokens: done?.cachedPromptTokens ?? 0,
          outputTokens: done?.completionTokens ?? c?.tokens.count ?? 0, cost: cost)))
  }

  mutating func opening(choice: Int) -> [Data] {
    openBlock = true
    let start = AnthropicMessage(
      id: plan.id, model: plan.model, content: [], stopReason: nil, stopSequence: nil,
      usage: AnthropicUsage(promptTokens: promptTokens, cachedTokens: 0, outputTokens: 0))
    return [
      NamedEvent.encode("message_start", MessageStart(message: start)),
      NamedEvent.encode("content_block_start", BlockStart(index: 0, contentBlock: .text(""))),
      NamedEvent.encode("ping", Ping()),
    ]
  }

  mutating func token(_ t: GeneratedToken, choice: Int, textOffset: Int) -> [Data] {
    guard !t.text.isEmpty else { return [] }
    return [NamedEvent.encode("content_block_delta", BlockDelta(index: 0, delta: .init(type: "text_delta", text: t.text)))]
  }

  mutating func final(_ c: EngineCompletion, choice: Int) -> [Data] {
    if c.finishReason == .error {
      failed = true
      let body = AnthropicErrorBody(
        error: .init(type: "api_error", message: "Generation failed: \(c.error ?? "the engine failed")"))
      return [NamedEvent.encode("error", body)]
    }
    guard openBlock else { return [] }
    openBlock = false
    return [NamedEvent.encode("content_block_stop", BlockStop(index: 0))]
  }

  mutating func closing(_ choices: [ChoiceAccumulator], cost: UsageCost?) -> [Data] {
    if failed { return [] }
    let done = choices.first?.completion
    var usage = AnthropicUsage(outputTokens: done?.completionTokens ?? choices.first?.tokens.count ?? 0)
    usage.cost = cost
    return [
      NamedEvent.encode(
        "message_delta",
        MessageDelta(delta: .init(stopReason: Self.stopReason(done), stopSequence: done?.stopSequence), usage: usage)),
      NamedEvent.encode("message_stop", MessageStop()),
    ]
  }
}

// MARK: - Stream events

private struct MessageStart: Encodable {
  var type = "message_start"
  var message: AnthropicMessage
}

private struct BlockStart: Encodable {
  var type = "content_block_start"
  var index: Int
  var contentBlock: ContentBlock
  enum CodingKeys: String, CodingKey {
    case type, index
    case contentBlock = "content_block"
  }
}

private struct Ping: Encodable { var type = "ping" }

private struct BlockDelta: Encodable {
  struct Delta: Encodable {
    var type: String
    var text: String
  }
  var type = "content_block_delta"
  var index: Int
  var delta: Delta
}

private struct BlockStop: Encodable {
  var type = "content_block_stop"
  var index: Int
}

private struct MessageDelta: Encodable {
  struct Delta: Encodable {
    var stopReason: String
    var stopSequence: String?
    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(stopReason, forKey: .stopReason)
      try c.encode(stopSequence, forKey: .stopSequence)
    }
    enum CodingKeys: String, CodingKey {
      case stopReason = "stop_reason"
      case stopSequence = "stop_sequence"
    }
  }
  var type = "message_delta"
  var delta: Delta
  var usage: AnthropicUsage
}

private struct MessageStop: Encodable { var type = "message_stop" }
