import Foundation
import Testing

@testable import Engine
@testable import Server

/// Anthropic Messages bodies onto the one `GenerationPlan`: what maps where, and what is refused.
@Suite struct AnthropicMappingTests {
  func messages() -> MessagesMapper { MessagesMapper(base: mapper()) }

  func request(_ json: String) throws -> MessagesRequest { try decode(MessagesRequest.self, json) }

  @Test func systemAndBlocksBecomeTheTemplatesMessages() throws {
    let r = try request(
      #"""
      {"model":"test-model","max_tokens":5,"system":[{"type":"text","text":"be "},{"type":"text","text":"brief"}],
       "messages":[{"role":"user","content":"hi there"},
                   {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"text","text":"yes"}]},
                   {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":" b"}]}]}
      """#)
    let chat = try messages().chatMessages(r)
    #expect(
      chat == [
        ChatMessage(role: "system", content: "be brief"), ChatMessage(role: "user", content: "hi there"),
        ChatMessage(role: "assistant", content: "yes"), ChatMessage(role: "user", content: "a b"),
      ])
    let plain = try request(#"{"model":"m","max_tokens":1,"system":"sys","messages":[{"role":"user","content":"x"}]}"#)
    #expect(try messages().chatMessages(plain).first == ChatMessage(role: "system", content: "sys"))
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
