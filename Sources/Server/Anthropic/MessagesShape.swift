import Engine
import Foundation
import Templates

/// Anthropic Messages output: a Message object, or its stream of named events in Anthropic's
/// order: `message_start`, `content_block_start`, `ping`, `content_block_delta`…,
/// `content_block_stop` (per block: thinking, text, tool_use), `message_delta` (stop reason,
/// output usage), `message_stop`. A generation that fails mid-stream ends with an `error` event
/// instead, as Anthropic's does.
struct MessagesShape: ResponseShape {
  let plan: GenerationPlan
  /// Reasoning and tool calls split out of the text as it streams (nil: plain text).
  private var splitter: ChatOutputSplitter?
  /// The open block's kind (`thinking`, `text`) and the index the next block gets.
  private var openBlock: String?
  private var nextIndex = 0
  private var pinged = false
  private var calledTools = false
  private var failed = false

  init(plan: GenerationPlan) {
    self.plan = plan
    splitter = plan.chatOutput.map(ChatOutputSplitter.init)
  }

  static func stopReason(_ c: EngineCompletion?, calledTools: Bool = false) -> String {
    guard let c else { return "max_tokens" }
    switch c.finishReason {
    case .stop: return calledTools ? "tool_use" : (c.stopSequence == nil ? "end_turn" : "stop_sequence")
    // Cut short by the server (shutdown): the text is incomplete, which `max_tokens` tells a client.
    case .length, .abort, .error: return "max_tokens"
    }
  }

  /// Anthropic's tool-use ids read `toolu_…`.
  static func toolUseID(_ call: ToolCall) -> String {
    call.id.hasPrefix("call_") ? "toolu_" + call.id.dropFirst(5) : call.id
  }

  private var promptTokens: Int { plan.promptTokenCounts.reduce(0, +) }

  func whole(_ choices: [ChoiceAccumulator], cost: UsageCost?) -> Data {
    let c = choices.first
    let done = c?.completion
    let split = RequestMapper.split(c, plan: plan)
    var content: [ContentBlock] = []
    if let r = split.reasoning, !r.isEmpty { content.append(ContentBlock(type: "thinking", thinking: r, signature: "")) }
    if !split.content.isEmpty || split.toolCalls.isEmpty { content.append(.text(split.content)) }
    for call in split.toolCalls {
      content.append(ContentBlock(type: "tool_use", id: Self.toolUseID(call), name: call.name, input: call.argumentsObject))
    }
    return SSEEncoder.json(
      AnthropicMessage(
        id: plan.id, model: plan.model, content: content,
        stopReason: Self.stopReason(done, calledTools: !split.toolCalls.isEmpty), stopSequence: done?.stopSequence,
        usage: AnthropicUsage(
          promptTokens: promptTokens, cachedTokens: done?.cachedPromptTokens ?? 0,
          outputTokens: done?.completionTokens ?? c?.tokens.count ?? 0, cost: cost)))
  }

  mutating func opening(choice: Int) -> [Data] {
    let start = AnthropicMessage(
      id: plan.id, model: plan.model, content: [], stopReason: nil, stopSequence: nil,
      usage: AnthropicUsage(promptTokens: promptTokens, cachedTokens: 0, outputTokens: 0))
    var out = [NamedEvent.encode("message_start", MessageStart(message: start))]
    // Plain text opens its one block at once; split output opens blocks as their text comes.
    if splitter == nil { out += startBlock(.text("")) }
    return out
  }

  /// Starts a block (closing the open one); `ping` follows the first, as Anthropic sends it.
  private mutating func startBlock(_ block: ContentBlock) -> [Data] {
    var out = stopBlock()
    out.append(NamedEvent.encode("content_block_start", BlockStart(index: nextIndex, contentBlock: block)))
    openBlock = block.type
    nextIndex += 1
    if !pinged {
      pinged = true
      out.append(NamedEvent.encode("ping", Ping()))
    }
    return out
  }

  private mutating func stopBlock() -> [Data] {
    guard openBlock != nil else { return [] }
    openBlock = nil
    return [NamedEvent.encode("content_block_stop", BlockStop(index: nextIndex - 1))]
  }

  private mutating func delta(_ d: ChatOutputDelta) -> [Data] {
    switch d {
    case .reasoning(let r):
      guard !r.isEmpty else { return [] }
      var out = openBlock == "thinking" ? [] : startBlock(ContentBlock(type: "thinking", thinking: ""))
      out.append(blockDelta(.init(type: "thinking_delta", thinking: r)))
      return out
    case .content(let c):
      guard !c.isEmpty else { return [] }
      var out = openBlock == "text" ? [] : startBlock(.text(""))
      out.append(blockDelta(.init(type: "text_delta", text: c)))
      return out
    }
  }

  private func blockDelta(_ d: BlockDelta.Delta) -> Data {
    NamedEvent.encode("content_block_delta", BlockDelta(index: nextIndex - 1, delta: d))
  }

  mutating func token(_ t: GeneratedToken, choice: Int, textOffset: Int) -> [Data] {
    guard !t.text.isEmpty else { return [] }
    if splitter != nil { return splitter!.feed(t.text).flatMap { delta($0) } }
    return [blockDelta(.init(type: "text_delta", text: t.text))]
  }

  mutating func final(_ c: EngineCompletion, choice: Int) -> [Data] {
    if c.finishReason == .error {
      failed = true
      let body = AnthropicErrorBody(
        error: .init(type: "api_error", message: "Generation failed: \(c.error ?? "the engine failed")"))
      return [NamedEvent.encode("error", body)]
    }
    var out: [Data] = []
    if splitter != nil {
      let end = splitter!.finish(plan: plan)
      out += end.deltas.flatMap { delta($0) }
      for call in end.calls {
        calledTools = true
        out += startBlock(ContentBlock(type: "tool_use", id: Self.toolUseID(call), name: call.name, input: .object([])))
        out.append(blockDelta(.init(type: "input_json_delta", partialJSON: call.argumentsObject.compactText)))
      }
      // Nothing came at all: one empty text block, as a whole response has.
      if nextIndex == 0 { out += startBlock(.text("")) }
    }
    return out + stopBlock()
  }

  mutating func closing(_ choices: [ChoiceAccumulator], cost: UsageCost?) -> [Data] {
    if failed { return [] }
    let done = choices.first?.completion
    var usage = AnthropicUsage(outputTokens: done?.completionTokens ?? choices.first?.tokens.count ?? 0)
    usage.cost = cost
    return [
      NamedEvent.encode(
        "message_delta",
        MessageDelta(
          delta: .init(stopReason: Self.stopReason(done, calledTools: calledTools), stopSequence: done?.stopSequence),
          usage: usage)),
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
  /// `text_delta` (text), `thinking_delta` (thinking) or `input_json_delta` (partial_json).
  struct Delta: Encodable {
    var type: String
    var text: String?
    var thinking: String?
    var partialJSON: String?
    enum CodingKeys: String, CodingKey {
      case type, text, thinking
      case partialJSON = "partial_json"
    }
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
