import Accounts
import Engine
import Foundation

/// Responses API output: a Response object, or its stream of events (each with its
/// `sequence_number`): `response.created`, `response.in_progress`, `response.output_item.added`,
/// `response.content_part.added`, `response.output_text.delta`…, `response.output_text.done`,
/// `response.content_part.done`, `response.output_item.done`, and `response.completed`
/// (`response.incomplete` when cut at `max_output_tokens`, `response.failed` when generation failed).
struct ResponsesShape: ResponseShape {
  let plan: GenerationPlan
  let settings: ResponseObject.Settings
  /// The input items so far, kept with the output for `previous_response_id`.
  let conversation: [ResponseItem]
  let created = Int(Date().timeIntervalSince1970)
  let messageID = "msg_" + Routes.shortID()
  private var sequence = 0
  private var text = ""
  private var failure: String?

  init(plan: GenerationPlan, mapped: ResponsesMapper.Mapped) {
    self.plan = plan
    settings = mapped.settings
    conversation = mapped.conversation
  }

  // MARK: - Objects

  private func item(text: String, status: String) -> ResponseObject.OutputItem {
    .init(id: messageID, status: status, content: [.init(text: text)])
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
    r.output = [item(text: choice.text, status: r.status == "failed" ? "incomplete" : r.status)]
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
    return [
      event(StreamEvent(type: "response.created", response: r)),
      event(StreamEvent(type: "response.in_progress", response: r)),
      event(StreamEvent(type: "response.output_item.added", outputIndex: 0, item: item(text: "", status: "in_progress"))),
      event(
        StreamEvent(
          type: "response.content_part.added", outputIndex: 0, itemID: messageID, contentIndex: 0,
          part: .init(text: ""))),
    ]
  }

  mutating func token(_ t: GeneratedToken, choice: Int, textOffset: Int) -> [Data] {
    guard !t.text.isEmpty else { return [] }
    text += t.text
    return [
      event(
        StreamEvent(
          type: "response.output_text.delta", outputIndex: 0, itemID: messageID, contentIndex: 0, delta: t.text,
          logprobs: []))
    ]
  }

  mutating func final(_ c: EngineCompletion, choice: Int) -> [Data] {
    if c.finishReason == .error {
      failure = c.error ?? "the engine failed"
      return []
    }
    let status = c.finishReason == .stop ? "completed" : "incomplete"
    return [
      event(
        StreamEvent(
          type: "response.output_text.done", outputIndex: 0, itemID: messageID, contentIndex: 0, text: text,
          logprobs: [])),
      event(
        StreamEvent(
          type: "response.content_part.done", outputIndex: 0, itemID: messageID, contentIndex: 0,
          part: .init(text: text))),
      event(StreamEvent(type: "response.output_item.done", outputIndex: 0, item: item(text: text, status: status))),
    ]
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

  /// Saves the response and its conversation (input items, then the output message) for the caller.
  func keep(response: Data, choices: [ChoiceAccumulator], caller: CompletionHandler.Caller, server: ServerContext) {
    guard let accounts = server.accounts else { return }
    let output = ResponseItem(
      type: "message", id: messageID, role: "assistant",
      content: .parts([.init(type: "output_text", text: choices.first?.text ?? "")]), status: "completed")
    let stored = StoredResponse(
      id: plan.id, principal: caller.principal.id, createdAt: Double(created), model: plan.model,
      previousResponseID: settings.previousResponseID, response: String(decoding: response, as: UTF8.self),
      conversation: String(decoding: SSEEncoder.json(conversation + [output]), as: UTF8.self))
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
  var logprobs: [JSONValue]?

  enum CodingKeys: String, CodingKey {
    case type, response, item, part, delta, text, logprobs
    case sequenceNumber = "sequence_number"
    case outputIndex = "output_index"
    case itemID = "item_id"
    case contentIndex = "content_index"
  }
}
