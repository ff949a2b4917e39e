import Foundation
import GGUF
import Testing

@testable import Engine
@testable import Server

@Suite struct RequestMapperTests {
  @Test func chatDefaultsFollowLlamaCppWhenTheModelRecommendsNothing() throws {
    let r = try decode(
      ChatCompletionRequest.self, #"{"model":"test-model","messages":[{"role":"user","content":"a b c"}]}"#)
    let plan = try mapper().plan(r, id: "chatcmpl-x")
    #expect(plan.requests.count == 1)
    let e = plan.requests[0]
    #expect(e.promptIDs.count == 5)  // 2 template tokens + 3 words
    #expect(e.sampling.temperature == 0.8)
    #expect(e.sampling.topP == 0.95)
    #expect(e.sampling.topK == 40)
    #expect(e.sampling.minP == 0.05)
    // Without max_tokens a chat may use the rest of the context.
    #expect(e.maxTokens == 95)
    #expect(e.id == "chatcmpl-x-0")
    #expect(!plan.stream && plan.logprobs == nil)
  }

  @Test func theModelsRecommendedSamplingFillsWhatARequestLeavesOut() throws {
    var metadata = GGUFMetadata()
    metadata.set("general.sampling.temp", .float32(0.6))
    metadata.set("general.sampling.top_k", .int32(20))
    metadata.set("general.sampling.top_p", .float32(2))  // out of range: ignored, llama.cpp's 0.95 stays
    let defaults = SamplingDefaults(metadata: metadata)
    #expect(defaults.keysFromModel == ["general.sampling.temp", "general.sampling.top_k"])
    var m = mapper()
    m.model.samplingDefaults = defaults.parameters
    let bare = try decode(CompletionRequest.self, #"{"prompt":"a b"}"#)
    let s = try m.plan(bare, id: "c").requests[0].sampling
    #expect(s.temperature == 0.6 && s.topK == 20 && s.topP == 0.95 && s.minP == 0.05)
    // An explicit value wins, also one that switches a filter off.
    let explicit = try decode(CompletionRequest.self, #"{"prompt":"a b","temperature":0,"top_k":0,"min_p":0}"#)
    let e = try m.plan(explicit, id: "c").requests[0].sampling
    #expect(e.temperature == 0 && e.topK == 0 && e.minP == 0 && e.topP == 0.95)
  }

  @Test func contentPartsAreJoinedAndNonTextPartsRefused() throws {
    let ok = try decode(
      ChatCompletionRequest.self,
      #"{"messages":[{"role":"developer","content":[{"type":"text","text":"x y"},{"type":"text","text":" z"}]}]}"#)
    #expect(try mapper().plan(ok, id: "c").requests[0].promptIDs.count == 2 + 3)
    let image = try decode(
      ChatCompletionRequest.self, #"{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]}"#)
    #expect(apiError { _ = try mapper().plan(image, id: "c") }?.param == "messages[0].content[0]")
    let role = try decode(ChatCompletionRequest.self, #"{"messages":[{"role":"robot","content":"x"}]}"#)
    #expect(apiError { _ = try mapper().plan(role, id: "c") }?.param == "messages[0].role")
  }

  @Test func parametersMapOntoTheEngineRequest() throws {
    let r = try decode(
      ChatCompletionRequest.self,
      #"""
      {"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":7,"temperature":0.5,"top_p":0.9,
       "top_k":-1,"min_p":0.1,"stop":"END","seed":-5,"presence_penalty":0.5,"frequency_penalty":-0.5,
       "repetition_penalty":1.1,"logit_bias":{"17":-100,"3":2.5},"logprobs":true,"top_logprobs":3,
       "ignore_eos":true,"user":"alice","stream":true,"stream_options":{"include_usage":true},"cache_prompt":true}
      """#)
    let plan = try mapper().plan(r, id: "c")
    let e = plan.requests[0]
    #expect(e.maxTokens == 7)
    #expect(e.sampling.temperature == 0.5)
    #expect(e.sampling.topP == 0.9)
    #expect(e.sampling.topK == 0)
    #expect(e.sampling.minP == 0.1)
    #expect(e.sampling.presencePenalty == 0.5)
    #expect(e.sampling.frequencyPenalty == -0.5)
    #expect(e.sampling.repetitionPenalty == 1.1)
    #expect(e.stopSequences == ["END"])
    #expect(e.logitBias == [17: -100, 3: 2.5])
    #expect(e.topLogprobs == 3)
    #expect(e.ignoreEndOfGeneration)
    #expect(plan.stream && plan.includeUsage)
    #expect(plan.user == "alice")
    #expect(plan.logprobs == 3)
  }

  @Test func speculationExtensionFieldsReachTheEngineRequest() throws {
    let chat = try decode(
      ChatCompletionRequest.self, #"{"messages":[{"role":"user","content":"hi"}],"speculative":"ngram","draft_tokens":3}"#)
    let e = try mapper().plan(chat, id: "c").requests[0]
    #expect(e.speculative == .ngram && e.draftTokens == 3)
    let off = try decode(CompletionRequest.self, #"{"prompt":"hi","speculative":"none","n":2}"#)
    #expect(try mapper().plan(off, id: "c").requests.map(\.speculative) == [.off, .off])
    // Absent: the server's default decides.
    let absent = try decode(CompletionRequest.self, #"{"prompt":"hi"}"#)
    let a = try mapper().plan(absent, id: "c").requests[0]
    #expect(a.speculative == nil && a.draftTokens == nil)
  }

  @Test func choicesGetDistinctReproducibleSeeds() throws {
    let r = try decode(ChatCompletionRequest.self, #"{"messages":[{"role":"user","content":"hi"}],"n":3,"seed":7}"#)
    let a = try mapper().plan(r, id: "c")
    let b = try mapper().plan(r, id: "c")
    #expect(a.requests.map(\.sampling.seed) == b.requests.map(\.sampling.seed))
    #expect(Set(a.requests.map(\.sampling.seed)).count == 3)
    #expect(a.requests.map(\.id) == ["c-0", "c-1", "c-2"])
  }

  @Test func invalidValuesNameTheirParameter() throws {
    let cases: [(String, String)] = [
      (#""temperature":3"#, "temperature"),
      (#""top_p":0"#, "top_p"),
      (#""top_k":-2"#, "top_k"),
      (#""min_p":1.5"#, "min_p"),
      (#""n":0"#, "n"),
      (#""n":17"#, "n"),
      (#""presence_penalty":2.5"#, "presence_penalty"),
      (#""frequency_penalty":-3"#, "frequency_penalty"),
      (#""repetition_penalty":0"#, "repetition_penalty"),
      (#""max_tokens":0"#, "max_tokens"),
      (#""max_tokens":5,"max_completion_tokens":6"#, "max_completion_tokens"),
      (#""top_logprobs":2"#, "top_logprobs"),
      (#""logprobs":true,"top_logprobs":21"#, "top_logprobs"),
      (#""stop":["a",""]"#, "stop"),
      (#""logit_bias":{"x":1}"#, "logit_bias"),
      (#""logit_bias":{"5000":1}"#, "logit_bias"),
      (#""logit_bias":{"5":101}"#, "logit_bias"),
      (#""stream_options":{"include_usage":true}"#, "stream_options"),
      (#""response_format":{"type":"json_object"}"#, "response_format"),
      (#""response_format":{"type":"json_schema","json_schema":{"name":"x"}}"#, "response_format.json_schema.schema"),
      (#""speculative":"draft_model""#, "speculative"),
      (#""draft_tokens":0"#, "draft_tokens"),
      (#""speculative":"ngram","draft_tokens":65"#, "draft_tokens"),
    ]
    for (fragment, param) in cases {
      let r = try decode(ChatCompletionRequest.self, #"{"messages":[{"role":"user","content":"hi"}],"# + fragment + "}")
      let error = apiError { _ = try mapper().plan(r, id: "c") }
      #expect(error?.status == 400, "\(fragment)")
      #expect(error?.param == param, "\(fragment)")
      #expect(error?.message.isEmpty == false)
    }
  }

  @Test func overContextStatesTheNumbers() throws {
    let r = try decode(ChatCompletionRequest.self, #"{"messages":[{"role":"user","content":"a b c"}],"max_tokens":96}"#)
    let error = try #require(apiError { _ = try mapper().plan(r, id: "c") })
    #expect(error.status == 400)
    #expect(error.code == "context_length_exceeded")
    #expect(error.param == "max_tokens")
    #expect(error.message.contains("5") && error.message.contains("96") && error.message.contains("100"))
    // Near Int.max the check must not overflow.
    let huge = try decode(
      ChatCompletionRequest.self, #"{"messages":[{"role":"user","content":"a"}],"max_tokens":9223372036854775807}"#)
    #expect(apiError { _ = try mapper().plan(huge, id: "c") }?.code == "context_length_exceeded")
    let fits = try decode(
      ChatCompletionRequest.self, #"{"messages":[{"role":"user","content":"a b c"}],"max_tokens":95}"#)
    #expect(try mapper().plan(fits, id: "c").requests[0].maxTokens == 95)
  }

  @Test func unknownModelIs404AndAliasesAreAccepted() throws {
    let bad = try decode(ChatCompletionRequest.self, #"{"model":"gpt-4","messages":[{"role":"user","content":"hi"}]}"#)
    let error = apiError { _ = try mapper().plan(bad, id: "c") }
    #expect(error?.status == 404)
    #expect(error?.code == "model_not_found")
    let alias = try decode(
      ChatCompletionRequest.self, #"{"model":"test.gguf","messages":[{"role":"user","content":"hi"}]}"#)
    #expect(apiError { _ = try mapper().plan(alias, id: "c") } == nil)
  }

  @Test func completionPromptsAndChoices() throws {
    let r = try decode(CompletionRequest.self, #"{"prompt":["a b","c d e"],"n":2,"echo":true}"#)
    let plan = try mapper().plan(r, id: "cmpl-1")
    #expect(plan.requests.count == 4)
    #expect(plan.requests.map(\.promptIDs.count) == [2, 2, 3, 3])
    #expect(plan.promptTokenCounts == [2, 3])
    #expect(plan.echoTexts == ["a b", "c d e"])
    #expect(plan.promptIndex(ofChoice: 3) == 1)
    // OpenAI's legacy default of 16 tokens.
    #expect(plan.requests[0].maxTokens == 16)
    let ids = try decode(CompletionRequest.self, #"{"prompt":[[1,2,3],[4]],"max_tokens":3}"#)
    #expect(try mapper().plan(ids, id: "c").requests.map(\.promptIDs) == [[1, 2, 3], [4]])
  }

  @Test func completionRefusals() throws {
    let cases: [(String, String)] = [
      (#"{"prompt":[1,2,1000]}"#, "prompt"),
      (#"{"prompt":[]}"#, "prompt"),
      (#"{"prompt":""}"#, "prompt"),
      (#"{"prompt":"x","suffix":"y"}"#, "suffix"),
      (#"{"prompt":"x","best_of":3}"#, "best_of"),
      (#"{"prompt":"x","logprobs":21}"#, "logprobs"),
      (#"{"prompt":"x","logprobs":1,"echo":true}"#, "echo"),
    ]
    for (json, param) in cases {
      let r = try decode(CompletionRequest.self, json)
      let error = apiError { _ = try mapper().plan(r, id: "c") }
      #expect(error?.status == 400, "\(json)")
      #expect(error?.param == param, "\(json)")
    }
  }

  @Test func decodingErrorsNameTheField() {
    let wrongType = apiError { _ = try decode(ChatCompletionRequest.self, #"{"messages":[],"temperature":"hot"}"#) }
    #expect(wrongType?.status == 400)
    #expect(wrongType?.param == "temperature")
    let missing = apiError { _ = try decode(ChatCompletionRequest.self, #"{"model":"m"}"#) }
    #expect(missing?.param == "messages")
    let nested = apiError { _ = try decode(ChatCompletionRequest.self, #"{"messages":[{"content":"x"}]}"#) }
    #expect(nested?.param == "messages[0].role")
    let notJSON = apiError { _ = try decode(ChatCompletionRequest.self, "{nope") }
    #expect(notJSON?.status == 400 && notJSON?.param == nil)
    let empty = apiError { _ = try decode(CompletionRequest.self, "") }
    #expect(empty?.status == 400)
    let badPrompt = apiError { _ = try decode(CompletionRequest.self, #"{"prompt":{"a":1}}"#) }
    #expect(badPrompt?.param == "prompt")
  }

  @Test func engineRefusalsMapToOpenAIStatuses() {
    let full = APIError(EngineError.queueFull(waiting: 256, retryAfterSeconds: 3))
    #expect(full.status == 429 && full.retryAfter == 3)
    #expect(APIError(EngineError.shuttingDown).status == 503)
    let long = APIError(EngineError.promptTooLong(promptTokens: 10, maxTokens: 20, contextLength: 25))
    #expect(long.status == 400 && long.message.contains("25"))
  }
}
