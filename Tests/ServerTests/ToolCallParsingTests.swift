import Foundation
import Testing

@testable import Server

@Suite struct ToolCallParsingTests {
  /// Deterministic ids, so parsed calls compare whole.
  func ids() -> () -> String {
    var n = 0
    return {
      n += 1
      return "call_\(n)"
    }
  }

  @Test func formatsAreRecognisedFromTheirTemplates() throws {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Fixtures/templates")
    let expected: [(String, ToolCallFormat)] = [
      ("Qwen-Qwen2.5-7B-Instruct", .hermes), ("Qwen-Qwen3-0.6B", .hermes),
      ("NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use", .hermes), ("NousResearch-Hermes-3-Llama-3.1-8B-tool_use", .hermes),
      ("meta-llama-Llama-3.1-8B-Instruct", .llama3), ("meta-llama-Llama-3.2-3B-Instruct", .llama3),
      ("meta-llama-Llama-3.3-70B-Instruct", .llama3), ("mistralai-Mistral-Nemo-Instruct-2407", .mistral),
      ("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B", .deepseekR1), ("deepseek-ai-DeepSeek-R1-Distill-Llama-8B", .deepseekR1),
      ("google-gemma-2-2b-it", .generic),
    ]
    for (file, format) in expected {
      let source = try String(contentsOf: dir.appendingPathComponent(file + ".jinja"), encoding: .utf8)
      #expect(ToolCallFormat(templateSource: source) == format, "\(file)")
    }
    #expect(ToolCallFormat(templateSource: nil) == .generic)
  }

  @Test func hermesCallsAndTheTextAroundThem() {
    let text = """
      Let me check both.
      <tool_call>
      {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}
      </tool_call>
      <tool_call>
      {"name": "search", "arguments": "{\\"query\\": \\"Paris news\\"}"}
      </tool_call>
      """
    let parsed = ToolCallFormat.hermes.parse(text, newID: ids())
    #expect(parsed.content == "Let me check both.")
    #expect(
      parsed.calls == [
        ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Paris","unit":"celsius"}"#),
        ToolCall(id: "call_2", name: "search", arguments: #"{"query":"Paris news"}"#),
      ])
    // Cut off before its closing tag: still a call.
    let open = ToolCallFormat.hermes.parse(#"<tool_call>{"name": "f", "arguments": {}}"#, newID: ids())
    #expect(open.calls.map(\.name) == ["f"])
    // Broken JSON inside the tags stays content: nothing the model wrote is lost.
    let broken = #"<tool_call>{"name": "f", "arguments": {"#
    #expect(ToolCallFormat.hermes.parse(broken, newID: ids()) == ParsedToolCalls(content: broken, calls: []))
    // No calls at all: the text is content as written.
    #expect(ToolCallFormat.hermes.parse("  Hello  ", newID: ids()) == ParsedToolCalls(content: "  Hello  ", calls: []))
  }

  @Test func llama3CallsUseParametersAndMayComeSeveral() {
    let one = ToolCallFormat.llama3.parse(#"{"name": "get_weather", "parameters": {"city": "Oslo"}}"#, newID: ids())
    #expect(one == ParsedToolCalls(content: "", calls: [ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Oslo"}"#)]))
    let tagged = ToolCallFormat.llama3.parse(
      #"<|python_tag|>{"name": "a", "parameters": {}}; {"name": "b", "parameters": {"x": "}{"}}"#, newID: ids())
    #expect(tagged.calls.map(\.name) == ["a", "b"])
    #expect(tagged.calls[1].arguments == #"{"x":"}{"}"#)
    // JSON that is not a call is an answer.
    let answer = ToolCallFormat.llama3.parse(#"{"city": "Oslo"}"#, newID: ids())
    #expect(answer.calls.isEmpty && answer.content == #"{"city": "Oslo"}"#)
  }

  @Test func mistralCallsFollowTheirMarker() {
    let parsed = ToolCallFormat.mistral.parse(
      #"[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Rome"}, "id": "abc123XYZ"}, {"name": "search", "arguments": {"query": "x"}}]"#,
      newID: ids())
    #expect(
      parsed.calls == [
        ToolCall(id: "abc123XYZ", name: "get_weather", arguments: #"{"city":"Rome"}"#),
        ToolCall(id: "call_1", name: "search", arguments: #"{"query":"x"}"#),
      ])
    #expect(parsed.content == "")
    // The marker is a control token some detokenizers drop: the bare list is read too.
    #expect(ToolCallFormat.mistral.parse(#"[{"name": "f", "arguments": {}}]"#, newID: ids()).calls.count == 1)
  }

  /// What the DeepSeek-R1 template writes for history calls, read back.
  @Test func deepSeekR1CallsInTheirBlock() {
    let text =
      "I will look.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>search\n```json\n{\"query\": \"x\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>"
    let parsed = ToolCallFormat.deepseekR1.parse(text, newID: ids())
    #expect(parsed.content == "I will look.")
    #expect(
      parsed.calls == [
        ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Paris"}"#),
        ToolCall(id: "call_2", name: "search", arguments: #"{"query":"x"}"#),
      ])
    // Broken arguments: nothing is a call, all is content.
    let broken = "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{\n```"
    #expect(ToolCallFormat.deepseekR1.parse(broken, newID: ids()).calls.isEmpty)
  }

  @Test func genericShapesAndFences() {
    for text in [
      #"{"name": "f", "arguments": {"a": 1}}"#, "```json\n{\"name\": \"f\", \"arguments\": {\"a\": 1}}\n```",
      #"{"tool_calls": [{"name": "f", "arguments": {"a": 1}}]}"#, #"{"tool_call": {"name": "f", "arguments": {"a": 1}}}"#,
      #"[{"type": "function", "function": {"name": "f", "arguments": "{\"a\": 1}"}}]"#,
    ] {
      let parsed = ToolCallFormat.generic.parse(text, newID: ids())
      #expect(parsed.calls == [ToolCall(id: "call_1", name: "f", arguments: #"{"a":1}"#)], "\(text)")
    }
    #expect(ToolCallFormat.generic.parse(#"{"answer": 42}"#, newID: ids()).calls.isEmpty)
    #expect(ToolCallFormat.generic.parse(#"{"name": "f", "arguments": [1]}"#, newID: ids()).calls.isEmpty)
    // Every family falls back to the generic shape (what a forced call writes).
    #expect(ToolCallFormat.hermes.parse(#"{"name": "f", "arguments": {}}"#, newID: ids()).calls.count == 1)
  }
}

@Suite struct ChatOutputSplitterTests {
  /// Feeds `text` in pieces cut at `cuts`, and returns the joined reasoning, content and calls.
  func run(_ text: String, _ options: ChatOutputOptions, pieces: [String]) -> (String?, String, [ToolCall]) {
    var s = ChatOutputSplitter(options: options)
    var deltas: [ChatOutputDelta] = []
    for p in pieces { deltas += s.feed(p) }
    var n = 0
    let end = s.finish(newID: {
      n += 1
      return "call_\(n)"
    })
    deltas += end.deltas
    let (reasoning, content) = ChatOutputDelta.join(deltas)
    return (reasoning, content, end.calls)
  }

  /// Every way of cutting the text in two and in single characters gives the same split as the
  /// whole text: markers split across tokens never leak.
  func expectStable(_ text: String, _ options: ChatOutputOptions, reasoning: String?, content: String, calls: Int) {
    let chars = text.map(String.init)
    var cuts: [[String]] = [[text], chars]
    for i in 0...chars.count { cuts.append([chars[..<i].joined(), chars[i...].joined()]) }
    for pieces in cuts {
      let (r, c, k) = run(text, options, pieces: pieces)
      #expect(r == reasoning, "\(pieces)")
      #expect(c == content, "\(pieces)")
      #expect(k.count == calls, "\(pieces)")
    }
  }

  @Test func thinkingIsSplitOutWhereverTheMarkersFall() {
    var o = ChatOutputOptions()
    o.splitsReasoning = true
    expectStable("<think>\nSix sevens.\n</think>\n\n42.", o, reasoning: "Six sevens.\n", content: "42.", calls: 0)
    expectStable("No thinking here.", o, reasoning: nil, content: "No thinking here.", calls: 0)
    expectStable("a <think> in the middle", o, reasoning: nil, content: "a <think> in the middle", calls: 0)
    // Cut off inside thinking: all reasoning, no content.
    expectStable("<think>still going </thi", o, reasoning: "still going </thi", content: "", calls: 0)
    // The prompt opened the block (DeepSeek-R1): output starts inside it.
    o.startsThinking = true
    expectStable("Hmm.</think>Answer", o, reasoning: "Hmm.", content: "Answer", calls: 0)
    // --reasoning-format none: all content.
    expectStable("<think>x</think>y", ChatOutputOptions(), reasoning: nil, content: "<think>x</think>y", calls: 0)
  }

  @Test func toolCallsAreHeldAndParsedAtTheEnd() {
    var o = ChatOutputOptions()
    o.splitsReasoning = true
    o.toolFormat = .hermes
    expectStable(
      "<think>Need weather.</think>Checking.\n<tool_call>\n{\"name\": \"w\", \"arguments\": {\"c\": \"P\"}}\n</tool_call>", o,
      reasoning: "Need weather.", content: "Checking.\n", calls: 1)
    expectStable("Just an answer.", o, reasoning: nil, content: "Just an answer.", calls: 0)
    // Something that looked like a call but is not one comes out as content, once.
    expectStable("{not json", o, reasoning: nil, content: "{not json", calls: 0)
    o.parallelToolCalls = false
    let two = "<tool_call>{\"name\": \"a\", \"arguments\": {}}</tool_call><tool_call>{\"name\": \"b\", \"arguments\": {}}</tool_call>"
    #expect(run(two, o, pieces: [two]).2.map(\.name) == ["a"])
  }

  @Test func aForcedCallIsTheWholeOutput() {
    var o = ChatOutputOptions()
    o.toolFormat = .llama3
    o.forcedCall = true
    let (r, c, calls) = run(#"{"name": "f", "arguments": {"x": 1}}"#, o, pieces: ["{\"na", "me\": \"f\", \"arguments\": {\"x\": 1}}"])
    #expect(r == nil && c == "")
    #expect(calls == [ToolCall(id: "call_1", name: "f", arguments: #"{"x":1}"#)])
  }

  @Test func wholeResponsesAgreeWithStreams() {
    var o = ChatOutputOptions()
    o.splitsReasoning = true
    o.toolFormat = .hermes
    let text = "<think>plan</think>\n\nSure.<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>"
    var n = 0
    let whole = SplitChatOutput(text, options: o, newID: {
      n += 1
      return "call_\(n)"
    })
    let streamed = run(text, o, pieces: text.map(String.init))
    #expect(whole.reasoning == streamed.0 && whole.content == streamed.1 && whole.toolCalls == streamed.2)
    #expect(whole.content == "Sure.")
  }
}
