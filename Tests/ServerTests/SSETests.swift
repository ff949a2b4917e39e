import Foundation
import Testing

@testable import Engine
@testable import Server

@Suite struct SSETests {
  func completion(_ reason: FinishReason = .stop, tokens: Int = 2) -> EngineCompletion {
    var t = RequestTimings()
    t.queueSeconds = 0.01
    t.ttftSeconds = 0.1
    t.e2eSeconds = 0.3
    t.decodeTokensPerSecond = 5
    return EngineCompletion(
      finishReason: reason, promptTokens: 4, completionTokens: tokens, cachedPromptTokens: 1, preemptions: 0,
      timings: t, error: nil)
  }

  func token(_ text: String, logprob: Float? = nil) -> GeneratedToken {
    GeneratedToken(
      id: 5, text: text, logprob: logprob.map { TokenLogprob(id: 5, text: text, logprob: $0) },
      topLogprobs: logprob == nil
        ? [] : [TokenLogprob(id: 5, text: text, logprob: logprob!), TokenLogprob(id: 6, text: "b", logprob: -3)],
      time: 0.2)
  }

  func plan(_ endpoint: GenerationPlan.Endpoint, n: Int = 1, logprobs: Int? = nil, echo: [String]? = nil)
    -> GenerationPlan
  {
    GenerationPlan(
      endpoint: endpoint, id: "id-1",
      requests: (0..<n).map { EngineRequest(id: "id-1-\($0)", promptIDs: [1, 2, 3, 4]) },
      n: n, promptTokenCounts: [4], stream: true, includeUsage: true, logprobs: logprobs, echoTexts: echo, user: nil,
      model: "m")
  }

  /// The JSON object of one `data:` event.
  func payload(_ event: Data?) throws -> [String: Any] {
    let text = String(decoding: try #require(event), as: UTF8.self)
    #expect(text.hasPrefix("data: "))
    #expect(text.hasSuffix("\n\n"))
    // One event is one line: a newline inside would split it.
    #expect(text.dropLast(2).contains("\n") == false)
    return try #require(JSONSerialization.jsonObject(with: Data(text.dropFirst(6).utf8)) as? [String: Any])
  }

  @Test func eventsAreSingleLinesEvenWhenTextHasNewlines() throws {
    let b = ResponseBuilder(plan: plan(.chat))
    let p = try payload(b.tokenChunk(token("line1\nline2\n\n"), choice: 0, textOffset: 0))
    let choices = try #require(p["choices"] as? [[String: Any]])
    let delta = try #require(choices[0]["delta"] as? [String: Any])
    #expect(delta["content"] as? String == "line1\nline2\n\n")
    #expect(p["object"] as? String == "chat.completion.chunk")
    #expect(String(decoding: SSEEncoder.done, as: UTF8.self) == "data: [DONE]\n\n")
  }

  @Test func chatStreamShape() throws {
    let b = ResponseBuilder(plan: plan(.chat, n: 2))
    let open = try payload(b.openingChunk(choice: 1))
    let openChoice = try #require((open["choices"] as? [[String: Any]])?.first)
    #expect(openChoice["index"] as? Int == 1)
    #expect((openChoice["delta"] as? [String: Any])?["role"] as? String == "assistant")
    // A token that adds no text (held back for a stop string) sends nothing unless logprobs were asked.
    #expect(b.tokenChunk(token(""), choice: 0, textOffset: 0) == nil)
    let final = try payload(b.finalChunk(completion(.length), choice: 0))
    #expect((final["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String == "length")
    let timings = try #require(final["timings"] as? [String: Any])
    #expect(timings["predicted_n"] as? Int == 2)
    #expect(timings["predicted_per_second"] as? Double == 5)
    var a = ChoiceAccumulator()
    a.add(token("x"))
    a.completion = completion()
    let usage = try payload(b.usageChunk([a, a]))
    #expect((usage["choices"] as? [Any])?.isEmpty == true)
    let u = try #require(usage["usage"] as? [String: Any])
    // The prompt counts once however many choices share it.
    #expect(u["prompt_tokens"] as? Int == 4)
    #expect(u["completion_tokens"] as? Int == 4)
    #expect(u["total_tokens"] as? Int == 8)
  }

  @Test func chatLogprobsInChunks() throws {
    let b = ResponseBuilder(plan: plan(.chat, logprobs: 1))
    let p = try payload(b.tokenChunk(token("", logprob: -0.5), choice: 0, textOffset: 0))
    let lp = try #require((p["choices"] as? [[String: Any]])?.first?["logprobs"] as? [String: Any])
    let content = try #require(lp["content"] as? [[String: Any]])
    #expect(content[0]["logprob"] as? Double == -0.5)
    #expect((content[0]["top_logprobs"] as? [Any])?.count == 2)
  }

  @Test func completionEchoAndLogprobOffsets() throws {
    let b = ResponseBuilder(plan: plan(.completions, logprobs: 1, echo: ["Hi "]))
    var a = ChoiceAccumulator()
    a.add(token("ab", logprob: -1))
    a.add(token("c", logprob: -2))
    a.completion = completion()
    let whole = try #require(JSONSerialization.jsonObject(with: b.whole([a])) as? [String: Any])
    let choice = try #require((whole["choices"] as? [[String: Any]])?.first)
    #expect(choice["text"] as? String == "Hi abc")
    let lp = try #require(choice["logprobs"] as? [String: Any])
    #expect(lp["tokens"] as? [String] == ["ab", "c"])
    #expect(lp["token_logprobs"] as? [Double] == [-1, -2])
    #expect(lp["text_offset"] as? [Int] == [3, 5])
    #expect(whole["object"] as? String == "text_completion")
    let open = try payload(b.openingChunk(choice: 0))
    #expect((open["choices"] as? [[String: Any]])?.first?["text"] as? String == "Hi ")
    let chunk = try payload(b.tokenChunk(token("c", logprob: -2), choice: 0, textOffset: 2))
    let chunkLP = try #require((chunk["choices"] as? [[String: Any]])?.first?["logprobs"] as? [String: Any])
    #expect(chunkLP["text_offset"] as? [Int] == [5])
  }

  @Test func errorBodyHasOpenAIShape() throws {
    let e = APIError.invalidParameter("temperature", "too hot")
    let object = try #require(JSONSerialization.jsonObject(with: e.body) as? [String: Any])
    let inner = try #require(object["error"] as? [String: Any])
    #expect(inner["message"] as? String == "too hot")
    #expect(inner["type"] as? String == "invalid_request_error")
    #expect(inner["param"] as? String == "temperature")
    // Absent values are sent as null, as OpenAI does.
    let unauthorized = try #require(JSONSerialization.jsonObject(with: APIError.unauthorized().body) as? [String: Any])
    #expect((unauthorized["error"] as? [String: Any])?["param"] is NSNull)
  }
}
