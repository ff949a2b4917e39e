import Foundation
import Testing

import Templates

@testable import Engine
@testable import Server

/// OpenAI Responses bodies onto the one `GenerationPlan`, the conversation a stored response
/// continues, and the stream's events in OpenAI's order.
@Suite struct ResponsesMappingTests {
  func responses() -> ResponsesMapper { ResponsesMapper(base: mapper()) }

  func request(_ json: String) throws -> ResponsesRequest { try decode(ResponsesRequest.self, json) }

  func summary(_ m: Templates.JSONValue) -> String {
    let calls = m["tool_calls"]?.arrayValue?.compactMap { $0["function"]?["name"]?.stringValue } ?? []
    return "\(m["role"]?.stringValue ?? "?"): \(m["content"]?.stringValue ?? "null")"
      + (calls.isEmpty ? "" : " +" + calls.joined(separator: ",")) + (m["tool_call_id"]?.stringValue.map { " <\($0)" } ?? "")
  }

  @Test func inputTextOrItemsWithInstructionsFirst() throws {
    let text = try request(#"{"input":"hello there","instructions":"be brief"}"#)
    let items = try responses().conversation(text, previous: [])
    #expect(try responses().messages(instructions: text.instructions, items: items).map(summary) == ["system: be brief", "user: hello there"])
    let list = try request(
      #"""
      {"input":[{"role":"developer","content":"sys"},{"type":"message","role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_text","text":" b"}]},
                {"type":"reasoning","id":"rs_1","summary":[]},
                {"type":"message","role":"assistant","content":[{"type":"output_text","text":"c","annotations":[]}]},
                {"type":"function_call","call_id":"call_1","name":"f","arguments":"{\"x\":1}"},
                {"type":"function_call_output","call_id":"call_1","output":"done"}]}
      """#)
    #expect(
      try responses().messages(instructions: nil, items: try responses().conversation(list, previous: [])).map(summary) == [
        "system: sys", "user: a b", "assistant: c +f", "tool: done <call_1",
      ])
  }

  @Test func functionToolsAndChoice() throws {
    let tools = #""tools":[{"type":"function","name":"f","parameters":{"type":"object"}}]"#
    func turn(_ extra: String) throws -> ChatTurn {
      try responses().turn(try request(#"{"input":"x",\#(tools)\#(extra)}"#), previous: []).0
    }
    #expect(try turn("").choice == .auto && turn("").tools.map(\.name) == ["f"])
    #expect(try turn(#","tool_choice":"required""#).choice == .required)
    #expect(try turn(#","tool_choice":{"type":"function","name":"f"}"#).choice == .function("f"))
    #expect(try turn(#","parallel_tool_calls":false"#).parallelToolCalls == false)
    #expect(try turn(#","reasoning":{"effort":"low"}"#).thinkingBudget == 512)
    let builtIn = try request(#"{"input":"x","tools":[{"type":"web_search"}]}"#)
    #expect(apiError { _ = try responses().plan(builtIn, previous: [], id: "r", canStore: true) }?.param == "tools[0].type")
  }

  @Test func aPreviousConversationComesFirstAndItsInstructionsDoNotCarryOver() throws {
    let previous = [
      ResponseItem(type: "message", role: "user", content: .text("one")),
      ResponseItem(type: "message", role: "assistant", content: .parts([.init(type: "output_text", text: "two")])),
    ]
    // Stored and read back as the store keeps it.
    let stored = try JSONDecoder().decode([ResponseItem].self, from: SSEEncoder.json(previous))
    #expect(stored == previous)
    let r = try request(#"{"input":"three","previous_response_id":"resp_x","instructions":"new"}"#)
    let mapped = try responses().plan(r, previous: stored, id: "resp_y", canStore: true)
    #expect(mapped.conversation.count == 3)
    #expect(mapped.plan.promptTokenCounts == [2 + 1 + 2 + 1 + 2 + 1 + 2 + 1])  // four messages of one word
    #expect(mapped.settings.previousResponseID == "resp_x" && mapped.settings.instructions == "new")
    #expect(mapped.plan.store && mapped.plan.endpoint == .responses)
  }

  @Test func parametersMapAndStoreDefaultsOn() throws {
    let r = try request(
      #"{"input":"a b c","max_output_tokens":9,"temperature":0.25,"top_p":0.5,"user":"u","metadata":{"k":"v"},"stream":true}"#)
    let m = try responses().plan(r, previous: [], id: "resp_1", canStore: true)
    let e = try #require(m.plan.requests.first)
    #expect(e.maxTokens == 9 && e.sampling.temperature == 0.25 && e.sampling.topP == 0.5)
    #expect(m.plan.stream && m.plan.store && m.plan.user == "u" && m.settings.metadata == ["k": "v"])
    // No database: nothing can be kept, and the response says so.
    let unstored = try responses().plan(r, previous: [], id: "resp_2", canStore: false)
    #expect(!unstored.plan.store && !unstored.settings.store)
    let off = try responses().plan(try request(#"{"input":"x","store":false}"#), previous: [], id: "r", canStore: true)
    #expect(!off.plan.store)
    // text.format reaches the structured-output check (the weightless context has no constrained decoding).
    let json = try request(#"{"input":"x","text":{"format":{"type":"json_schema","name":"n","schema":{"type":"object"}}}}"#)
    #expect(apiError { _ = try responses().plan(json, previous: [], id: "r", canStore: true) }?.param == "response_format")
  }

  @Test func refusesWhatItCannotHonour() throws {
    func param(_ json: String) throws -> String? {
      let r = try request(json)
      return apiError { _ = try responses().plan(r, previous: [], id: "r", canStore: true) }?.param
    }
    #expect(try param(#"{}"#) == "input")
    #expect(try param(#"{"input":"x","max_output_tokens":0}"#) == "max_output_tokens")
    #expect(try param(#"{"input":"x","temperature":3}"#) == "temperature")
    #expect(try param(#"{"input":[{"role":"tool","content":"x"}]}"#) == "input[0].role")
    #expect(try param(#"{"input":[{"role":"user","content":[{"type":"input_image","image_url":"x"}]}]}"#) == "input[0].content[0].type")
    #expect(try param(#"{"input":[{"type":"function_call_output","output":"x"}]}"#) == "input[0]")
    #expect(try param(#"{"input":"x","background":true}"#) == "background")
    #expect(try param(#"{"input":"x","text":{"format":{"type":"yaml"}}}"#) == "text.format.type")
    #expect(try param(#"{"input":"x","metadata":{"\#(String(repeating: "k", count: 65))":"v"}}"#) == "metadata")
    let wrongModel = try request(#"{"input":"x","model":"gpt-9"}"#)
    #expect(apiError { _ = try responses().plan(wrongModel, previous: [], id: "r", canStore: true) }?.status == 404)
  }

  func completion(_ reason: FinishReason) -> EngineCompletion {
    EngineCompletion(
      finishReason: reason, promptTokens: 3, completionTokens: 2, cachedPromptTokens: 1, preemptions: 0,
      timings: RequestTimings(), error: reason == .error ? "boom" : nil)
  }

  /// The `type`s of SSE events, checking each `event:` line names its data's type.
  func types(_ chunks: [Data]) throws -> [String] {
    try chunks.flatMap { chunk -> [String] in
      let text = String(decoding: chunk, as: UTF8.self)
      return try text.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { event in
        let lines = event.split(separator: "\n")
        #expect(lines.count == 2 && lines[0].hasPrefix("event: ") && lines[1].hasPrefix("data: "))
        let object = try #require(
          JSONSerialization.jsonObject(with: Data(lines[1].dropFirst(6).utf8)) as? [String: Any])
        let type = try #require(object["type"] as? String)
        #expect(lines[0] == "event: \(type)")
        return type
      }
    }
  }

  @Test func streamEventsComeInOpenAIsOrderWithSequenceNumbers() throws {
    let m = try responses().plan(try request(#"{"input":"a","stream":true}"#), previous: [], id: "resp_s", canStore: true)
    var shape = ResponsesShape(plan: m.plan, mapped: m)
    var chunks = shape.opening(choice: 0)
    let token = GeneratedToken(id: 1, text: "hi", logprob: nil, topLogprobs: [], time: 0)
    chunks += shape.token(token, choice: 0, textOffset: 0)
    chunks += shape.token(GeneratedToken(id: 2, text: "", logprob: nil, topLogprobs: [], time: 0), choice: 0, textOffset: 2)
    chunks += shape.final(completion(.stop), choice: 0)
    var choice = ChoiceAccumulator()
    choice.add(token)
    choice.completion = completion(.stop)
    chunks += shape.closing([choice], cost: nil)
    #expect(
      try types(chunks) == [
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.done", "response.content_part.done",
        "response.output_item.done", "response.completed",
      ])
    let all = String(decoding: chunks.reduce(Data(), +), as: UTF8.self)
    for n in 0..<9 { #expect(all.contains("\"sequence_number\":\(n)")) }
    let whole = try #require(JSONSerialization.jsonObject(with: shape.whole([choice], cost: nil)) as? [String: Any])
    #expect(whole["status"] as? String == "completed" && whole["object"] as? String == "response")
    let usage = try #require(whole["usage"] as? [String: Any])
    #expect(usage["input_tokens"] as? Int == m.plan.promptTokenCounts[0] && usage["output_tokens"] as? Int == 2)
    // Cut at the limit: incomplete, and said why.
    choice.completion = completion(.length)
    var cut = ResponsesShape(plan: m.plan, mapped: m)
    #expect(try types(cut.closing([choice], cost: nil)) == ["response.incomplete"])
    let incomplete = try #require(JSONSerialization.jsonObject(with: cut.whole([choice], cost: nil)) as? [String: Any])
    #expect((incomplete["incomplete_details"] as? [String: Any])?["reason"] as? String == "max_output_tokens")
  }
}
