import Foundation
import Testing

import Templates

@testable import Engine
@testable import Server

/// Anthropic Messages bodies onto the one `GenerationPlan`: what maps where, and what is refused.
@Suite struct AnthropicMappingTests {
  func messages() -> MessagesMapper { MessagesMapper(base: mapper()) }

  func request(_ json: String) throws -> MessagesRequest { try decode(MessagesRequest.self, json) }

  /// A message as the template sees it, `role: content` (`+calls` when it carries tool calls).
  func summary(_ m: Templates.JSONValue) -> String {
    let calls = m["tool_calls"]?.arrayValue?.compactMap { $0["function"]?["name"]?.stringValue } ?? []
    let content = m["content"]?.stringValue ?? "null"
    return "\(m["role"]?.stringValue ?? "?"): \(content)" + (calls.isEmpty ? "" : " +" + calls.joined(separator: ","))
      + (m["tool_call_id"]?.stringValue.map { " <\($0)" } ?? "")
  }

  @Test func systemBlocksAndToolHistoryBecomeTheTemplatesMessages() throws {
    let r = try request(
      #"""
      {"model":"test-model","max_tokens":5,"system":[{"type":"text","text":"be "},{"type":"text","text":"brief"}],
       "messages":[{"role":"user","content":"hi there"},
                   {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"text","text":"let me look"},
                                                  {"type":"tool_use","id":"toolu_1","name":"lookup","input":{"q":"x"}}]},
                   {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"42"}]},
                                             {"type":"text","text":"a"},{"type":"text","text":" b"}]}]}
      """#)
    #expect(
      try messages().messages(r).map(summary) == [
        "system: be brief", "user: hi there", "assistant: let me look +lookup", "tool: 42 <toolu_1", "user: a b",
      ])
    let call = try #require(try messages().messages(r)[2]["tool_calls"]?.arrayValue?.first)
    #expect(call["function"]?["arguments"]?["q"]?.stringValue == "x" && call["id"]?.stringValue == "toolu_1")
    let plain = try request(#"{"model":"m","max_tokens":1,"system":"sys","messages":[{"role":"user","content":"x"}]}"#)
    #expect(try messages().messages(plain).map(summary).first == "system: sys")
  }

  @Test func toolsAndToolChoiceMapOntoTheSharedModes() throws {
    let tools = #""tools":[{"name":"lookup","description":"d","input_schema":{"type":"object"}}]"#
    func turn(_ extra: String) throws -> ChatTurn {
      try messages().turn(try request(#"{"model":"test-model","max_tokens":2000,\#(tools)\#(extra),"messages":[{"role":"user","content":"x"}]}"#))
    }
    #expect(try turn("").choice == .auto)
    #expect(try turn(#","tool_choice":{"type":"any"}"#).choice == .required)
    #expect(try turn(#","tool_choice":{"type":"tool","name":"lookup"}"#).choice == .function("lookup"))
    #expect(try turn(#","tool_choice":{"type":"none"}"#).choice == .none)
    #expect(try turn(#","tool_choice":{"type":"auto","disable_parallel_tool_use":true}"#).parallelToolCalls == false)
    #expect(try turn("").tools.first?.name == "lookup")
    let thinking = try turn(#","thinking":{"type":"enabled","budget_tokens":1024}"#)
    #expect(thinking.thinkingBudget == 1024 && thinking.variables["enable_thinking"] == .bool(true))
    #expect(try turn(#","thinking":{"type":"disabled"}"#).variables["enable_thinking"] == .bool(false))
    let bad = try request(#"{"model":"test-model","max_tokens":5,"tool_choice":{"type":"tool","name":"nope"},\#(tools),"messages":[{"role":"user","content":"x"}]}"#)
    #expect(apiError { _ = try messages().plan(bad, id: "m") }?.param == "tool_choice")
    let server = try request(#"{"model":"test-model","max_tokens":5,"tools":[{"type":"web_search_20250305","name":"web_search"}],"messages":[{"role":"user","content":"x"}]}"#)
    #expect(apiError { _ = try messages().plan(server, id: "m") }?.param == "tools[0]")
  }

  @Test func parametersMapOntoTheEngineRequest() throws {
    let r = try request(
      #"""
      {"model":"test-model","max_tokens":7,"temperature":0.5,"top_p":0.9,"top_k":3,"stop_sequences":["END"],
       "metadata":{"user_id":"u-1"},"stream":true,"messages":[{"role":"user","content":"a b c"}]}
      """#)
    let plan = try messages().plan(r, id: "msg_1")
    #expect(plan.endpoint == .messages && plan.stream && plan.user == "u-1" && plan.n == 1)
    let e = try #require(plan.requests.first)
    #expect(e.maxTokens == 7 && e.stopSequences == ["END"] && e.id == "msg_1-0")
    #expect(e.sampling.temperature == 0.5 && e.sampling.topP == 0.9 && e.sampling.topK == 3)
    #expect(e.promptIDs.count == 5)  // 2 template tokens + 3 words
    #expect(plan.promptTokenCounts == [5])
  }

  @Test func refusesWhatAnthropicRefuses() throws {
    func param(_ json: String) throws -> String? {
      let r = try request(json)
      return apiError { _ = try messages().plan(r, id: "m") }?.param
    }
    let user = #"[{"role":"user","content":"x"}]"#
    #expect(try param(#"{"model":"test-model","messages":\#(user)}"#) == "max_tokens")
    #expect(try param(#"{"model":"test-model","max_tokens":0,"messages":\#(user)}"#) == "max_tokens")
    #expect(try param(#"{"max_tokens":5,"messages":\#(user)}"#) == "model")
    #expect(try param(#"{"model":"test-model","max_tokens":5,"temperature":1.5,"messages":\#(user)}"#) == "temperature")
    #expect(try param(#"{"model":"test-model","max_tokens":5,"top_k":-1,"messages":\#(user)}"#) == "top_k")
    #expect(try param(#"{"model":"test-model","max_tokens":5,"messages":[]}"#) == "messages")
    #expect(try param(#"{"model":"test-model","max_tokens":5,"messages":[{"role":"system","content":"x"}]}"#) == "messages[0].role")
    #expect(
      try param(#"{"model":"test-model","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{}}]}]}"#)
        == "messages[0].content[0]")
    // A final assistant turn (prefill) cannot be continued.
    #expect(
      try param(#"{"model":"test-model","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"y"}]}"#)
        == "messages")
    #expect(
      try param(#"{"model":"test-model","max_tokens":5000,"thinking":{"type":"enabled","budget_tokens":100},"messages":\#(user)}"#)
        == "thinking")
    #expect(
      try param(#"{"model":"test-model","max_tokens":5,"tool_choice":{"type":"any"},"messages":\#(user)}"#) == "tool_choice")
    let unknown = try request(#"{"model":"claude-x","max_tokens":5,"messages":\#(user)}"#)
    #expect(apiError { _ = try messages().plan(unknown, id: "m") }?.status == 404)
    // The context: max_tokens past what the prompt leaves.
    let long = try request(#"{"model":"test-model","max_tokens":99,"messages":\#(user)}"#)
    #expect(apiError { _ = try messages().plan(long, id: "m") }?.code == "context_length_exceeded")
  }

  @Test func stopReasonsAreAnthropics() {
    var c = EngineCompletion(
      finishReason: .stop, promptTokens: 1, completionTokens: 1, cachedPromptTokens: 0, preemptions: 0,
      timings: RequestTimings(), error: nil)
    #expect(MessagesShape.stopReason(c) == "end_turn")
    c.stopSequence = "END"
    #expect(MessagesShape.stopReason(c) == "stop_sequence")
    c.finishReason = .length
    #expect(MessagesShape.stopReason(c) == "max_tokens")
  }

  @Test func errorsComeInEachDialectsShape() throws {
    let e = APIError.invalidParameter("max_tokens", "max_tokens: Field required.")
    let anthropic = try #require(
      JSONSerialization.jsonObject(with: e.body(in: .anthropic)) as? [String: Any])
    #expect(anthropic["type"] as? String == "error")
    let inner = try #require(anthropic["error"] as? [String: Any])
    #expect(inner["type"] as? String == "invalid_request_error" && inner["message"] as? String == e.message)
    #expect(APIError.unauthorized().anthropicType == "authentication_error")
    #expect(APIError.loading().anthropicType == "overloaded_error")
    let ollama = try #require(JSONSerialization.jsonObject(with: e.body(in: .ollama)) as? [String: Any])
    #expect(ollama["error"] as? String == e.message)
    #expect(ErrorDialect.of(path: "/v1/messages") == .anthropic)
    #expect(ErrorDialect.of(path: "/v1/messages/count_tokens") == .anthropic)
    #expect(ErrorDialect.of(path: "/api/chat") == .ollama)
    #expect(ErrorDialect.of(path: "/v1/responses") == .openAI)
  }
}
