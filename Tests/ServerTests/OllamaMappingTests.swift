import Foundation
import Testing

@testable import Engine
@testable import Server

/// Ollama `/api/chat` and `/api/generate` bodies onto the one `GenerationPlan`, and its NDJSON lines.
@Suite struct OllamaMappingTests {
  func ollama(contextLength: Int = 100) -> OllamaMapper { OllamaMapper(base: mapper(contextLength: contextLength)) }

  @Test func optionsUseOllamasNamesAndStreamDefaultsOn() throws {
    let r = try decode(
      OllamaChatRequest.self,
      #"""
      {"model":"test-model:latest","messages":[{"role":"system","content":"s"},{"role":"user","content":"a b"}],
       "options":{"temperature":0.3,"top_p":0.8,"top_k":7,"min_p":0.1,"seed":5,"num_predict":4,"stop":["x"],
                  "repeat_penalty":1.2,"num_ctx":4096,"num_gpu":99,"mirostat":0}}
      """#)
    let plan = try ollama().plan(r, id: "o")
    #expect(plan.endpoint == .ollamaChat && plan.stream)
    let e = try #require(plan.requests.first)
    #expect(e.maxTokens == 4 && e.stopSequences == ["x"])
    #expect(e.sampling.temperature == 0.3 && e.sampling.topP == 0.8 && e.sampling.topK == 7 && e.sampling.minP == 0.1)
    #expect(e.sampling.repetitionPenalty == 1.2)
    #expect(e.promptIDs.count == 3 + 4)
    let whole = try ollama().plan(
      try decode(OllamaChatRequest.self, #"{"model":"test-model","stream":false,"messages":[{"role":"user","content":"a"}]}"#),
      id: "o")
    #expect(!whole.stream)
  }

  @Test func numPredictNotAbovezeroMeansTheRestOfTheContextAndLargeOnesAreClamped() throws {
    for n in [-1, -2, 0] {
      let r = try decode(
        OllamaGenerateRequest.self, #"{"model":"test-model","prompt":"a b","options":{"num_predict":\#(n)}}"#)
      let plan = try ollama().plan(r, id: "g")
      #expect(plan.requests[0].maxTokens == 100 - plan.promptTokenCounts[0])
      #expect(plan.defaultedMaxTokens)
    }
    let big = try decode(OllamaGenerateRequest.self, #"{"model":"test-model","prompt":"a b","options":{"num_predict":100000}}"#)
    let plan = try ollama().plan(big, id: "g")
    #expect(plan.requests[0].maxTokens == 100 - plan.promptTokenCounts[0] && plan.endpoint == .ollamaGenerate)
  }

  @Test func generateUsesTheTemplateUnlessRaw() throws {
    let templated = try ollama().plan(
      try decode(OllamaGenerateRequest.self, #"{"model":"test-model","prompt":"a b","system":"s t"}"#), id: "g")
    #expect(templated.promptTokenCounts == [4 + 4])  // two messages: 2 template tokens + words each
    let raw = try ollama().plan(
      try decode(OllamaGenerateRequest.self, #"{"model":"test-model","prompt":"a b","raw":true}"#), id: "g")
    #expect(raw.promptTokenCounts == [2])
  }

  @Test func refusesLikeOllama() throws {
    func error(_ json: String, chat: Bool = true) throws -> APIError? {
      if chat {
        let r = try decode(OllamaChatRequest.self, json)
        return apiError { _ = try ollama().plan(r, id: "o") }
      }
      let r = try decode(OllamaGenerateRequest.self, json)
      return apiError { _ = try ollama().plan(r, id: "o") }
    }
    let user = #"[{"role":"user","content":"x"}]"#
    #expect(try error(#"{"messages":\#(user)}"#)?.param == "model")
    #expect(try error(#"{"model":"llama3","messages":\#(user)}"#)?.status == 404)
    #expect(try error(#"{"model":"test-model","think":true,"messages":\#(user)}"#)?.param == "think")
    #expect(try error(#"{"model":"test-model","messages":[{"role":"bogus","content":"x"}]}"#)?.param == "messages[0].role")
    #expect(try error(#"{"model":"test-model","messages":[{"role":"user","content":"x","tool_calls":[{"function":{"name":"f"}}]}]}"#)?.param == "messages[0].tool_calls")
    #expect(try error(#"{"model":"test-model","messages":[{"role":"user","content":"x","images":["aGk="]}]}"#)?.param == "messages[0].images")
    #expect(try error(#"{"model":"test-model","format":"yaml","messages":\#(user)}"#)?.param == "format")
    #expect(try error(#"{"model":"test-model","options":{"temperature":9},"messages":\#(user)}"#)?.param == "temperature")
    #expect(try error(#"{"model":"test-model","prompt":"x","suffix":"y"}"#, chat: false)?.param == "suffix")
    #expect(try error(#"{"model":"test-model","prompt":"x","template":"{{ .Prompt }}"}"#, chat: false)?.param == "template")
    #expect(try error(#"{"model":"test-model","prompt":"x","context":[1,2]}"#, chat: false)?.param == "context")
    #expect(try error(#"{"model":"test-model","prompt":"x","raw":true,"system":"s"}"#, chat: false)?.param == "system")
    #expect(apiError { _ = try OllamaMapper.format(.string("json")) } == nil)
    #expect(try OllamaMapper.format(.string("json"))?.type == .jsonObject)
    #expect(try OllamaMapper.format(.object(["type": .string("object")]))?.type == .jsonSchema)
    #expect(try OllamaMapper.format(.string("")) == nil)
  }

  @Test func linesCarryOllamasFieldsAndNanoseconds() throws {
    let plan = try ollama().plan(
      try decode(OllamaChatRequest.self, #"{"model":"test-model","messages":[{"role":"user","content":"a"}]}"#), id: "o")
    var shape = OllamaShape(plan: plan)
    #expect(shape.streamContentType == "application/x-ndjson")
    let token = GeneratedToken(id: 1, text: "hi", logprob: nil, topLogprobs: [], time: 0)
    let piece = try #require(shape.token(token, choice: 0, textOffset: 0).first)
    #expect(piece.last == 0x0A)
    let p = try #require(JSONSerialization.jsonObject(with: piece) as? [String: Any])
    #expect(p["done"] as? Bool == false && (p["message"] as? [String: Any])?["content"] as? String == "hi")
    #expect(p["created_at"] is String && p["model"] as? String == "test-model")
    var t = RequestTimings()
    t.queueSeconds = 0.5
    t.ttftSeconds = 1.5
    t.e2eSeconds = 4
    var choice = ChoiceAccumulator()
    choice.add(token)
    choice.completion = EngineCompletion(
      finishReason: .length, promptTokens: 3, completionTokens: 1, cachedPromptTokens: 0, preemptions: 0, timings: t,
      error: nil)
    #expect(shape.final(choice.completion!, choice: 0).isEmpty)
    let lastLine = try #require(shape.closing([choice], cost: nil).first)
    let last = try #require(JSONSerialization.jsonObject(with: lastLine) as? [String: Any])
    #expect(last["done"] as? Bool == true && last["done_reason"] as? String == "length")
    #expect(last["total_duration"] as? Int == 4_000_000_000 && last["prompt_eval_duration"] as? Int == 1_000_000_000)
    #expect(last["eval_duration"] as? Int == 2_500_000_000 && last["eval_count"] as? Int == 1)
    #expect(last["prompt_eval_count"] as? Int == plan.promptTokenCounts[0] && last["load_duration"] as? Int == 0)
    let whole = try #require(JSONSerialization.jsonObject(with: shape.whole([choice], cost: nil)) as? [String: Any])
    #expect((whole["message"] as? [String: Any])?["content"] as? String == "hi")
    // A failure mid-stream is an error line, and nothing follows it.
    var failing = OllamaShape(plan: plan)
    var failed = choice.completion!
    failed.finishReason = .error
    failed.error = "boom"
    let errorLine = try #require(failing.final(failed, choice: 0).first)
    let line = try #require(JSONSerialization.jsonObject(with: errorLine) as? [String: Any])
    #expect((line["error"] as? String)?.contains("boom") == true)
    #expect(failing.closing([choice], cost: nil).isEmpty)
  }
}
