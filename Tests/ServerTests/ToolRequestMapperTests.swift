import Constraints
import Foundation
import Templates
import Testing

@testable import Server

/// A constraint that records nothing; stands for the real ones the served model builds.
private struct Marker: TokenConstraint {
  var label: String
  mutating func mask(_ logits: UnsafeMutableBufferPointer<Float>) {}
  mutating func advance(_ token: Int32) {}
  var isComplete: Bool { false }
}

@Suite struct ToolRequestMapperTests {
  /// A mapper whose template records what it was asked to render, and whose constraints say
  /// which tools they were built for.
  func mapper(format: ToolCallFormat = .hermes, opensThinking: Bool = false, thinks: Bool = true)
    -> (RequestMapper, LockedBox<ChatPrompt?>)
  {
    let seen = LockedBox<ChatPrompt?>(nil)
    var context = testContext(contextLength: 4096)
    context.renderChat = { prompt in
      seen.withLock { $0 = prompt }
      return RenderedChat(ids: [1, 2, 3], text: "<|im_start|>assistant\n" + (opensThinking ? "<think>\n" : ""))
    }
    context.toolCallFormat = format
    context.templateThinks = thinks
    context.makeToolConstraint = { tools in Marker(label: tools.map(\.name).joined(separator: ",")) }
    context.makeThinkingBudget = { budget, starts in Marker(label: "budget \(budget) \(starts)") }
    var m = RequestMapper(model: context)
    m.randomSeed = { 1 }
    return (m, seen)
  }

  func request(_ json: String) throws -> ChatCompletionRequest {
    // As the route does: one in-order parse serves the decode and `ordered`.
    var (r, document) = try RequestBodyReader.decodeWithDocument(ChatCompletionRequest.self, from: Data(json.utf8))
    r.ordered = ChatCompletionRequest.ordered(Data(json.utf8), document: document)
    return r
  }

  static let tools = #"[{"type":"function","function":{"name":"w","description":"d","parameters":{"type":"object","properties":{"zeta":{"type":"string"},"alpha":{"type":"integer"}}}}},{"type":"function","function":{"name":"s"}}]"#

  @Test func toolsReachTheTemplateInTheClientsOrder() throws {
    let (m, seen) = mapper()
    let plan = try m.plan(try request(#"{"messages":[{"role":"user","content":"hi"}],"tools":\#(Self.tools)}"#), id: "c")
    let tools = try #require(seen.withLock { $0 }?.tools)
    #expect(tools.count == 2)
    // "zeta" before "alpha", as sent (Codable's decoding would have sorted them).
    #expect(tools[0].compactText.contains(#"{"zeta":{"type":"string"},"alpha""#))
    #expect(plan.chatOutput?.toolFormat == .hermes)
    #expect(plan.chatOutput?.forcedCall == false)
    #expect(plan.requests[0].constraint == nil)
  }

  @Test func historyCallsHaveTheirArgumentsParsed() throws {
    let (m, seen) = mapper()
    _ = try m.plan(
      try request(
        #"{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"w","arguments":"{\"zeta\": \"x\", \"alpha\": 1}"}}]},{"role":"tool","tool_call_id":"call_1","content":"18"}],"tools":\#(Self.tools)}"#
      ), id: "c")
    let messages = try #require(seen.withLock { $0 }?.messages)
    #expect(messages[1]["tool_calls"]?.arrayValue?[0]["function"]?["arguments"] == .object([("zeta", .string("x")), ("alpha", .number(1))]))
    #expect(messages[1]["content"] == .null)
    #expect(messages[2]["role"] == .string("tool") && messages[2]["tool_call_id"] == .string("call_1"))
  }

  @Test func forcedChoicesGetAToolConstraint() throws {
    let (m, _) = mapper()
    let required = try m.plan(
      try request(#"{"messages":[{"role":"user","content":"hi"}],"tools":\#(Self.tools),"tool_choice":"required"}"#), id: "c")
    #expect((required.requests[0].constraint as? Marker)?.label == "w,s")
    #expect(required.chatOutput?.forcedCall == true)
    let named = try m.plan(
      try request(
        #"{"messages":[{"role":"user","content":"hi"}],"tools":\#(Self.tools),"tool_choice":{"type":"function","function":{"name":"s"}},"parallel_tool_calls":false}"#
      ), id: "c")
    #expect((named.requests[0].constraint as? Marker)?.label == "s")
    #expect(named.chatOutput?.parallelToolCalls == false)
    let none = try m.plan(
      try request(#"{"messages":[{"role":"user","content":"hi"}],"tools":\#(Self.tools),"tool_choice":"none"}"#), id: "c")
    #expect(none.chatOutput?.toolFormat == nil && none.requests[0].constraint == nil)
  }

  @Test func badToolRequestsNameTheParameter() throws {
    let (m, _) = mapper()
    let cases: [(String, String)] = [
      (#""tools":\#(Self.tools),"tool_choice":{"type":"function","function":{"name":"x"}}"#, "tool_choice"),
      (#""tool_choice":"required""#, "tool_choice"),
      (#""tools":\#(Self.tools),"tool_choice":"maybe""#, "tool_choice"),
      (#""tools":[{"type":"function","function":{"name":"a b"}}]"#, "tools[0].function.name"),
      (#""tools":[{"type":"retrieval"}]"#, "tools[0]"),
      (#""tools":[{"type":"function","function":{"name":"a","parameters":3}}]"#, "tools[0].function.parameters"),
      (#""tools":\#(Self.tools),"tool_choice":"required","response_format":{"type":"json_object"}"#, "response_format"),
      (#""reasoning_effort":"extreme""#, "reasoning_effort"),
      (#""thinking_budget":-1"#, "thinking_budget"),
    ]
    for (extra, param) in cases {
      let r = try request(#"{"messages":[{"role":"user","content":"hi"}],\#(extra)}"#)
      #expect(apiError { _ = try m.plan(r, id: "c") }?.param == param, "\(extra)")
    }
  }

  @Test func reasoningEffortSetsABudgetOnThinkingTemplates() throws {
    let (m, _) = mapper(opensThinking: true)
    for (effort, budget) in [("low", 512), ("medium", 2048), ("high", 8192), ("none", 0)] {
      let plan = try m.plan(
        try request(#"{"messages":[{"role":"user","content":"hi"}],"reasoning_effort":"\#(effort)"}"#), id: "c")
      #expect((plan.requests[0].constraint as? Marker)?.label == "budget \(budget) true")
      #expect(plan.chatOutput?.startsThinking == true && plan.chatOutput?.splitsReasoning == true)
    }
    let explicit = try m.plan(
      try request(#"{"messages":[{"role":"user","content":"hi"}],"reasoning_effort":"low","thinking_budget":7}"#), id: "c")
    #expect((explicit.requests[0].constraint as? Marker)?.label == "budget 7 true")
    // A template that never thinks gets no budget (and keeps speculation).
    let (plain, _) = mapper(thinks: false)
    let p = try plain.plan(try request(#"{"messages":[{"role":"user","content":"hi"}],"reasoning_effort":"low"}"#), id: "c")
    #expect(p.requests[0].constraint == nil)
  }

  @Test func templateKwargsReachTheTemplate() throws {
    let (m, seen) = mapper()
    _ = try m.plan(
      try request(#"{"messages":[{"role":"user","content":"hi"}],"chat_template_kwargs":{"enable_thinking":false}}"#), id: "c")
    #expect(seen.withLock { $0 }?.variables["enable_thinking"] == .bool(false))
  }
}
