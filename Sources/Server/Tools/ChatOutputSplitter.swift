/// `--reasoning-format`: whether thinking is split out of the answer. `deepseek` (the default, as
/// llama-server's) puts the text inside `<think>…</think>` into `reasoning_content` (and
/// `reasoning`); `none` leaves everything in `content`.
public enum ReasoningFormat: String, Sendable, CaseIterable {
  case none, deepseek
}

/// How to read one chat output: set per request from the template, the request and the server.
struct ChatOutputOptions: Sendable, Equatable {
  /// Split `<think>…</think>` out as reasoning.
  var splitsReasoning = false
  /// The prompt opened the thinking block, so output starts inside it.
  var startsThinking = false
  /// Parse tool calls in this format; nil when the request has no tools or `tool_choice: "none"`.
  var toolFormat: ToolCallFormat?
  /// Decoding was constrained to one call object (`required` / a named function).
  var forcedCall = false
  /// `parallel_tool_calls: false` keeps the first call only.
  var parallelToolCalls = true

  /// Plain text: no reasoning split, no tools.
  var isPlain: Bool { !splitsReasoning && toolFormat == nil }
}

/// One piece of a split chat output, in order.
enum ChatOutputDelta: Sendable, Equatable {
  case reasoning(String)
  case content(String)

  /// The pieces of one output put back together: reasoning (nil when there was none) and content.
  static func join(_ deltas: [ChatOutputDelta]) -> (reasoning: String?, content: String) {
    var reasoning: String?
    var content = ""
    for d in deltas {
      switch d {
      case .reasoning(let r): reasoning = (reasoning ?? "") + r
      case .content(let c): content += c
      }
    }
    return (reasoning, content)
  }
}

/// Splits a chat output, as it streams, into reasoning, answer content and tool calls: the one
/// parser behind whole and streamed responses of every dialect (OpenAI's `reasoning_content` /
/// `tool_calls`, Anthropic's `thinking` / `tool_use` blocks, Ollama's `thinking` / `tool_calls`).
///
/// Feed text as it comes (`feed`), then `finish()`. Text that may be part of a marker (`<think>`,
/// `</think>`, `<tool_call>`, …) is held back until it is known not to be, so a marker split
/// across tokens never leaks into content. Tool calls come only from `finish()`: a call's text is
/// held from its first byte (a family marker or a JSON bracket at the start of the answer) to
/// the end and parsed once; text that turns out not to be a call is released as content then.
/// A whole response is the same run over its full text, so whole and streamed outputs agree.
struct ChatOutputSplitter: Sendable {
  static let thinkOpen = "<think>"
  static let thinkClose = "</think>"

  let options: ChatOutputOptions
  private enum Reasoning { case start, thinking, answer }
  private enum Tools { case undecided, streaming, held }
  private var reasoning: Reasoning
  private var tools: Tools = .undecided
  /// Text not yet released by the reasoning stage.
  private var pending = ""
  private var emittedReasoning = false
  /// The answer so far is whitespace only (dropped when it follows a thinking block).
  private var answerStarted = false
  private var sawThinking = false
  /// Text not yet released by the tool stage.
  private var held = ""

  init(options: ChatOutputOptions) {
    self.options = options
    if !options.splitsReasoning {
      reasoning = .answer
    } else if options.startsThinking {
      reasoning = .thinking
      sawThinking = true
    } else {
      reasoning = .start
    }
    if options.forcedCall { tools = .held }
  }

  mutating func feed(_ text: String) -> [ChatOutputDelta] {
    var out: [ChatOutputDelta] = []
    pending += text
    while true {
      switch reasoning {
      case .start:
        let t = pending.trimmingLeadingWhitespace()
        if t.hasPrefix(Self.thinkOpen) {
          pending = String(t.dropFirst(Self.thinkOpen.count))
          reasoning = .thinking
          sawThinking = true
          continue
        }
        if Self.thinkOpen.hasPrefix(t) { return out }
        reasoning = .answer
        continue
      case .thinking:
        if let close = pending.range(of: Self.thinkClose) {
          emitReasoning(String(pending[..<close.lowerBound]), into: &out)
          pending = String(pending[close.upperBound...])
          reasoning = .answer
          continue
        }
        let keep = Self.partialSuffix(of: pending, marker: Self.thinkClose)
        emitReasoning(String(pending.dropLast(keep)), into: &out)
        pending = String(pending.suffix(keep))
        return out
      case .answer:
        let text = pending
        pending = ""
        feedAnswer(text, into: &out)
        return out
      }
    }
  }

  /// Releases what was held and parses the calls.
  mutating func finish(newID: () -> String = ToolCall.newID) -> (deltas: [ChatOutputDelta], calls: [ToolCall]) {
    var out: [ChatOutputDelta] = []
    switch reasoning {
    case .start:
      // Only whitespace or part of `<think>` came: that is the answer.
      reasoning = .answer
      let text = pending
      pending = ""
      feedAnswer(text, into: &out)
    case .thinking:
      // Cut off inside the thinking block: all of it was reasoning.
      emitReasoning(pending, into: &out)
      pending = ""
    case .answer: break
    }
    var calls: [ToolCall] = []
    if let format = options.toolFormat, !held.isEmpty, tools != .streaming {
      let parsed = options.forcedCall ? ToolCallFormat.generic.parse(held, newID: newID) : format.parse(held, newID: newID)
      calls = options.parallelToolCalls ? parsed.calls : Array(parsed.calls.prefix(1))
      if !parsed.content.isEmpty { out.append(.content(parsed.content)) }
    } else if !held.isEmpty {
      out.append(.content(held))
    }
    held = ""
    return (out, calls)
  }

  private mutating func emitReasoning(_ text: String, into out: inout [ChatOutputDelta]) {
    var text = Substring(text)
    if !emittedReasoning { text = text.trimmingLeadingWhitespace() }
    guard !text.isEmpty else { return }
    emittedReasoning = true
    out.append(.reasoning(String(text)))
  }

  private mutating func feedAnswer(_ text: String, into out: inout [ChatOutputDelta]) {
    var text = Substring(text)
    if !answerStarted && sawThinking {
      text = text.trimmingLeadingWhitespace()
      if text.isEmpty { return }
    }
    if !text.isEmpty { answerStarted = true }
    guard let format = options.toolFormat else {
      if !text.isEmpty { out.append(.content(String(text))) }
      return
    }
    held += text
    while true {
      switch tools {
      case .held: return
      case .undecided:
        switch format.mayStartCall(held.trimmingLeadingWhitespace()) {
        case true?: tools = .held
        case false?: tools = .streaming
        case nil: return
        }
      case .streaming:
        if let marker = format.inlineMarker, let at = held.range(of: marker) {
          let before = String(held[..<at.lowerBound])
          if !before.isEmpty { out.append(.content(before)) }
          held = String(held[at.lowerBound...])
          tools = .held
          return
        }
        let keep = format.inlineMarker.map { Self.partialSuffix(of: held, marker: $0) } ?? 0
        let release = String(held.dropLast(keep))
        if !release.isEmpty { out.append(.content(release)) }
        held = String(held.suffix(keep))
        return
      }
    }
  }

  /// Length of the longest end of `text` that is a proper start of `marker` (to hold back).
  static func partialSuffix(of text: String, marker: String) -> Int {
    let m = Array(marker)
    let t = Array(text.suffix(m.count - 1))
    var k = min(t.count, m.count - 1)
    while k > 0 {
      if Array(t.suffix(k)) == Array(m.prefix(k)) { return k }
      k -= 1
    }
    return 0
  }
}

/// A whole output, split: what a non-streamed response carries.
struct SplitChatOutput: Sendable, Equatable {
  var reasoning: String?
  var content: String
  var toolCalls: [ToolCall]

  init(_ text: String, options: ChatOutputOptions, newID: () -> String = ToolCall.newID) {
    var splitter = ChatOutputSplitter(options: options)
    var deltas = splitter.feed(text)
    let end = splitter.finish(newID: newID)
    deltas += end.deltas
    (reasoning, content) = ChatOutputDelta.join(deltas)
    toolCalls = end.calls
  }
}
