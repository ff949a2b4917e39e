import Accounts
import Engine
import Foundation

/// Responses API output: a Response object, or its stream of events (each with its
/// `sequence_number`): `response.created`, `response.in_progress`, then per output item
/// `response.output_item.added`, `response.content_part.added`, its text deltas
/// (`response.output_text.delta`, or `response.reasoning_text.delta` for reasoning),
/// `….done`, `response.content_part.done`, `response.output_item.done` (a function call:
/// `response.function_call_arguments.delta`/`.done` instead of parts), and finally
/// `response.completed` (`response.incomplete` when cut at `max_output_tokens`,
/// `response.failed` when generation failed).
struct ResponsesShape: ResponseShape {
  let plan: GenerationPlan
  let settings: ResponseObject.Settings
  /// The input items so far, kept with the output for `previous_response_id`.
  let conversation: [ResponseItem]
  let created = Int(Date().timeIntervalSince1970)
  let messageID = "msg_" + Routes.shortID()
  let reasoningID = "rs_" + Routes.shortID()
  private var splitter: ChatOutputSplitter?
  private var sequence = 0
  /// The item being streamed (`message` or `reasoning`), its output index and text so far.
  private var open: (kind: String, index: Int, text: String)?
  private var nextOutput = 0
  private var sawMessage = false
  private var failure: String?

  init(plan: GenerationPlan, mapped: ResponsesMapper.Mapped) {
    self.plan = plan
    settings = mapped.settings
    conversation = mapped.conversation
    splitter = plan.chatOutput.map(ChatOutputSplitter.init)
  }

  // MARK: - Objects

  /// The output items of a finished choice: reasoning, the message, then function calls.
  func items(_ split: SplitChatOutput, status: String) -> [ResponseObject.OutputItem] {
    var out: [ResponseObject.OutputItem] = []
    if let r = split.reasoning, !r.isEmpty { out.append(.reasoning(id: reasoningID, text: r, status: status)) }
    if !split.content.isEmpty || split.toolCalls.isEmpty {
      out.append(.message(id: messageID, text: split.content, status: status))
    }
    out += split.toolCalls.map { ResponseObject.OutputItem.functionCall($0, status: status) }
    return out
  }

  /// The response as of now: in progress (no output yet), or finished with its choice.
  func object(_ choice: ChoiceAccumulator?, cost: UsageCost?) -> ResponseObject {
    var r = ResponseObject(
      id: plan.id, createdAt: created, model: plan.model, status: "in_progress", output: [], settings: settings)
    guard let choice, let done = choice.completion else { return r }
    if done.finishReason == .error {
      r.status = "failed"
      r.error = .init(code: "server_error", message: "Generation failed: \(done.error ?? "the engine failed")")
    } else if done.finishReason == .stop {
      r.status = "completed"
    } else {
      // Cut at the token limit, or by the server (shutdown): the text is incomplete either way.
      r.status = "incomplete"
      r.incompleteDetails = .init(reason: "max_output_tokens")
    }
    r.output = items(RequestMapper.split(choice, plan: plan), status: r.status == "failed" ? "incomplete" : r.status)
    r.usage = .init(
      inputTokens: plan.promptTokenCounts.reduce(0, +), cachedTokens: done.cachedPromptTokens,
      outputTokens: done.completionTokens, cost: cost)
    return r
  }

  func whole(_ choices: [ChoiceAccumulator], cost: UsageCost?) -> Data {
    SSEEncoder.json(object(choices.first, cost: cost))
  }

  // MARK: - Stream

  private mutating func event(_ e: StreamEvent) -> Data {
    var e = e
    e.sequenceNumber = sequence
    sequence += 1
    return NamedEvent.encode(e.type, e)
  }

  mutating func opening(choice: Int) -> [Data] {
    let r = object(nil, cost: nil)
    var out = [
      event(StreamEvent(type: "response.created", response: r)),
      event(StreamEvent(type: "response.in_progress", response: r)),
    ]
    // Plain text opens its message at once; split output opens items as their text comes.
    if splitter == nil { out += start("message") }
    return out
  }

  private func item(_ kind: String, text: String?, status: String) -> ResponseObject.OutputItem {
    kind == "reasoning"
      ? .reasoning(id: reasoningID, text: text, status: status) : .message(id: messageID, text: text, status: status)
  }

  private func part(_ kind: String, _ text: String) -> ResponseObject.OutputText {
    kind == "reasoning" ? .reasoning(text) : .output(text)
  }

  /// Opens an output item of `kind` (closing the open one) with its one content part.
  private mutating func start(_ kind: String) -> [Data] {
    var out = close()
    let index = nextOutput
    nextOutput += 1
    open = (kind, index, "")
    if kind == "message" { sawMessage = true }
    let id = kind == "reasoning" ? reasoningID : messageID
    out.append(event(StreamEvent(type: "response.output_item.added", outputIndex: index, item: item(kind, text: nil, status: "in_progress"))))
    out.append(
      event(
        StreamEvent(type: "response.content_part.added", outputIndex: index, itemID: id, contentIndex: 0, part: part(kind, ""))))
    return out
  }

  private mutating func close(status: String = "completed") -> [Data] {
    guard let (kind, index, text) = open else { return [] }
    open = nil
    let id = kind == "reasoning" ? reasoningID : messageID
    let done = kind == "reasoning" ? "response.reasoning_text.done" : "response.output_text.done"
    return [
      event(StreamEvent(type: done, outputIndex: index, itemID: id, contentIndex: 0, text: text, logprobs: kind == "reasoning" ? nil : [])),
      event(StreamEvent(type: "response.content_part.done", outputIndex: index, itemID: id, contentIndex: 0, part: part(kind, text))),
      event(StreamEvent(type: "response.output_item.done", outputIndex: index, item: item(kind, text: text, status: status))),
    ]
  }

  private mutating func append(_ kind: String, _ text: String) -> [Data] {
    guard !text.isEmpty else { return [] }
    var out = open?.kind == kind ? [] : start(kind)
    open!.text += text
    let id = kind == "reasoning" ? reasoningID : messageID
    let type = kind == "reasoning" ? "response.reasoning_text.delta" : "response.output_text.delta"
    out.append(
      event(
        StreamEvent(
          type: type, outputIndex: open!.index, itemID: id, contentIndex: 0, delta: text,
          logprobs: kind == "reasoning" ? nil : [])))
    return out
  }

  private mutating func delta(_ d: ChatOutputDelta) -> [Data] {
    switch d {
    case .reasoning(let r): append("reasoning", r)
    case .content(let c): append("message", c)
    }
  }

  mutating func token(_ t: GeneratedToken, choice: Int, textOffset: Int) -> [Data] {
    guard !t.text.isEmpty else { return [] }
    if splitter != nil { return splitter!.feed(t.text).flatMap { delta($0) } }
    return append("message", t.text)
  }

  mutating func final(_ c: EngineCompletion, choice: Int) -> [Data] {
    if c.finishReason == .error {
      failure = c.error ?? "the engine failed"
      return []
    }
    let status = c.finishReason == .stop ? "completed" : "incomplete"
    var out: [Data] = []
    var calls: [ToolCall] = []
    if splitter != nil {
      let end = splitter!.finish(plan: plan)
      out += end.deltas.flatMap { delta($0) }
      calls = end.calls
    }
    // Nothing came at all: an empty message, as a whole response has.
    if calls.isEmpty && !sawMessage { out += start("message") }
    out += close(status: status)
    for call in calls {
      let index = nextOutput
      nextOutput += 1
      let id = ResponseObject.OutputItem.functionCall(call, status: status).id
      out.append(
        event(
          StreamEvent(
            type: "response.output_item.added", outputIndex: index,
            item: .functionCall(call, status: "in_progress", arguments: ""))))
      out.append(
        event(
          StreamEvent(type: "response.function_call_arguments.delta", outputIndex: index, itemID: id, delta: call.arguments)))
      out.append(
        event(
          StreamEvent(
            type: "response.function_call_arguments.done", outputIndex: index, itemID: id, name: call.name,
            arguments: call.arguments)))
      out.append(event(StreamEvent(type: "response.output_item.done", outputIndex: index, item: .functionCall(call, status: status))))
    }
    return out
  }

  mutating func closing(_ choices: [ChoiceAccumulator], cost: UsageCost?) -> [Data] {
    let r = object(choices.first, cost: cost)
    let type =
      switch r.status {
      case "completed": "response.completed"
      case "failed": "response.failed"
      default: "response.incomplete"
      }
    return [event(StreamEvent(type: type, response: r))]
  }

  // MARK: - Store

  /// Saves the response and its conversation (input items, then the output: message and function
  /// calls) for the caller.
  func keep(response: Data, choices: [ChoiceAccumulator], caller: CompletionHandler.Caller, server: ServerContext) {
    guard let accounts = server.accounts else { return }
    let split = RequestMapper.split(choices.first, plan: plan)
    var output: [ResponseItem] = []
    if !split.content.isEmpty || split.toolCalls.isEmpty {
      output.append(
        ResponseItem(
          type: "message", id: messageID, role: "assistant",
          content: .parts([.init(type: "output_text", text: split.content)]), status: "completed"))
    }
    for call in split.toolCalls {
      output.append(ResponseItem(type: "function_call", callID: call.id, name: call.name, arguments: call.arguments))
    }
    let stored = StoredResponse(
      id: plan.id, principal: caller.principal.id, createdAt: Double(created), model: plan.model,
      previousResponseID: settings.previousResponseID, response: String(decoding: response, as: UTF8.self),
      conversation: String(decoding: SSEEncoder.json(conversation + output), as: UTF8.self))
    do { try ResponseStore(accounts).save(stored) } catch { server.logger.error("response not stored: \(error)") }
  }
}

/// One event of a Responses stream; only the fields of its type are set.
private struct StreamEvent: Encodable {
  var type: String
  var sequenceNumber = 0
  var response: ResponseObject?
  var outputIndex: Int?
  var itemID: String?
  var contentIndex: Int?
  var item: ResponseObject.OutputItem?
  var part: ResponseObject.OutputText?
  var delta: String?
  var text: String?
  var name: String?
  var arguments: String?
  var logprobs: [JSONValue]?

  enum CodingKeys: String, CodingKey {
    case type, response, item, part, delta, text, name, arguments, logprobs
    case sequenceNumber = "sequence_number"
    case outputIndex = "output_index"
    case itemID = "item_id"
    case contentIndex = "content_index"
  }
}
