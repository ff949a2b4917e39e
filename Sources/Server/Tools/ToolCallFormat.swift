import Templates

/// How a model family writes tool calls in its output, recognised from its chat template (what the
/// template teaches the model to write is what it writes back).
///
/// | format  | output                                                           | families |
/// |---------|------------------------------------------------------------------|----------|
/// | hermes  | `<tool_call>{"name": …, "arguments": {…}}</tool_call>`, repeated | Qwen2.5, Qwen3, Hermes 2 Pro / 3 |
/// | llama3  | `{"name": …, "parameters": {…}}` (optionally `<|python_tag|>` first, several joined by `;`) | Llama 3.1 / 3.2 / 3.3 |
/// | mistral | `[TOOL_CALLS][{"name": …, "arguments": {…}}, …]`                 | Mistral Nemo, Mistral Small |
/// | deepseekR1 | `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>name` + a ```json block + `<｜tool▁call▁end｜>`… | DeepSeek-R1 distills |
/// | generic | the whole output is a call object, a list of them, or `{"tool_calls": […]}` | anything else |
///
/// Every format falls back to the generic one, which is also what constrained decoding
/// (`tool_choice` `required` or a named function) writes.
enum ToolCallFormat: String, Sendable, Equatable, CaseIterable {
  case hermes, llama3, mistral, deepseekR1, generic

  static let deepSeekCallsBegin = "<｜tool▁calls▁begin｜>"

  /// The format a template's text teaches.
  init(templateSource source: String?) {
    guard let source else {
      self = .generic
      return
    }
    if source.contains("<tool_call>") {
      self = .hermes
    } else if source.contains("[TOOL_CALLS]") {
      self = .mistral
    } else if source.contains("tool▁calls▁begin") {
      self = .deepseekR1
    } else if source.contains("<|start_header_id|>ipython") || source.contains("<|python_tag|>")
      || (source.contains("ipython") && source.contains("\"parameters\""))
    {
      self = .llama3
    } else {
      self = .generic
    }
  }

  /// The calls in a finished output and the content left around them. Text that only looks like
  /// a call (unparsable JSON, no name) stays content, so nothing the model wrote is lost.
  func parse(_ text: String, newID: () -> String = ToolCall.newID) -> ParsedToolCalls {
    let family: ParsedToolCalls?
    switch self {
    case .hermes: family = ToolCallFormat.parseHermes(text, newID)
    case .llama3: family = ToolCallFormat.parseLlama3(text, newID)
    case .mistral: family = ToolCallFormat.parseMistral(text, newID)
    case .deepseekR1: family = ToolCallFormat.parseDeepSeekR1(text, newID)
    case .generic: family = nil
    }
    if let family, !family.calls.isEmpty { return family }
    return ToolCallFormat.parseGeneric(text, newID) ?? ParsedToolCalls(content: text, calls: [])
  }

  /// Whether streamed content that starts with `prefix` (leading whitespace removed) may turn out
  /// to be a call, so it must be held back until the output ends. Nil: cannot tell yet (the
  /// prefix is a prefix of a marker).
  func mayStartCall(_ prefix: Substring) -> Bool? {
    var markers = ["{", "[", "```"]
    switch self {
    case .hermes: markers.append("<tool_call>")
    case .llama3: markers.append("<|python_tag|>")
    case .mistral: markers.append("[TOOL_CALLS]")
    case .deepseekR1: markers.append(ToolCallFormat.deepSeekCallsBegin)
    case .generic: break
    }
    if markers.contains(where: { prefix.hasPrefix($0) }) { return true }
    if markers.contains(where: { $0.hasPrefix(prefix) }) { return nil }
    return false
  }

  /// The marker after which the rest of streamed content is a call, for formats whose calls may
  /// follow some text (Hermes writes prose before `<tool_call>`).
  var inlineMarker: String? {
    switch self {
    case .hermes: "<tool_call>"
    case .mistral: "[TOOL_CALLS]"
    case .llama3: "<|python_tag|>"
    case .deepseekR1: ToolCallFormat.deepSeekCallsBegin
    case .generic: nil
    }
  }
}

/// Tool calls found in an output, and the text that was not part of them.
struct ParsedToolCalls: Sendable, Equatable {
  var content: String
  var calls: [ToolCall]
}

extension ToolCallFormat {
  static func parseHermes(_ text: String, _ newID: () -> String) -> ParsedToolCalls? {
    var content = ""
    var calls: [ToolCall] = []
    var rest = Substring(text)
    while let open = rest.range(of: "<tool_call>") {
      let before = rest[..<open.lowerBound]
      let after = rest[open.upperBound...]
      let close = after.range(of: "</tool_call>")
      let body = close.map { after[..<$0.lowerBound] } ?? after
      guard let call = callObject(body, newID) else { return nil }
      content += before
      calls.append(call)
      rest = close.map { after[$0.upperBound...] } ?? ""
    }
    content += rest
    return ParsedToolCalls(content: content.trimmingWhitespace(), calls: calls)
  }

  static func parseLlama3(_ text: String, _ newID: () -> String) -> ParsedToolCalls? {
    var rest = Substring(text).trimmingLeadingWhitespace()
    if rest.hasPrefix("<|python_tag|>") { rest = rest.dropFirst("<|python_tag|>".count) }
    var calls: [ToolCall] = []
    while true {
      rest = rest.trimmingLeadingWhitespace()
      if rest.hasPrefix(";") { rest = rest.dropFirst().trimmingLeadingWhitespace() }
      if rest.isEmpty { break }
      guard let end = jsonEnd(rest), let call = callObject(rest[..<end], newID) else { return nil }
      calls.append(call)
      rest = rest[end...]
    }
    return ParsedToolCalls(content: "", calls: calls)
  }

  static func parseMistral(_ text: String, _ newID: () -> String) -> ParsedToolCalls? {
    let marker = text.range(of: "[TOOL_CALLS]")
    let before = marker.map { String(text[..<$0.lowerBound]) } ?? ""
    var list = marker.map { text[$0.upperBound...] } ?? Substring(text)
    list = list.trimmingLeadingWhitespace()
    guard let end = jsonEnd(list), case .array(let items)? = try? Templates.JSONValue(parsing: String(list[..<end])) else {
      return nil
    }
    var calls: [ToolCall] = []
    for item in items {
      guard let call = call(from: item, newID) else { return nil }
      calls.append(call)
    }
    let after = String(list[end...])
    return ParsedToolCalls(content: (before + after).trimmingWhitespace(), calls: calls)
  }

  /// `<｜tool▁calls▁begin｜>` then per call `<｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\n{…}\n```<｜tool▁call▁end｜>`,
  /// then `<｜tool▁calls▁end｜>`; text before the block is content.
  static func parseDeepSeekR1(_ text: String, _ newID: () -> String) -> ParsedToolCalls? {
    guard let begin = text.range(of: deepSeekCallsBegin) else { return nil }
    var rest = text[begin.upperBound...]
    var calls: [ToolCall] = []
    while let start = rest.range(of: "<｜tool▁call▁begin｜>") {
      let call = rest[start.upperBound...]
      guard let sep = call.range(of: "<｜tool▁sep｜>") else { return nil }
      let body = call[sep.upperBound...]
      let end = body.range(of: "<｜tool▁call▁end｜>")
      let inner = end.map { body[..<$0.lowerBound] } ?? body
      guard let newline = inner.firstIndex(of: "\n") else { return nil }
      let name = inner[..<newline].trimmingWhitespace()
      var arguments = inner[inner.index(after: newline)...].trimmingWhitespace()
      if arguments.hasPrefix("```") {
        guard let open = arguments.firstIndex(of: "\n"), arguments.hasSuffix("```"), arguments.count > 6 else { return nil }
        arguments = arguments[arguments.index(after: open)..<arguments.index(arguments.endIndex, offsetBy: -3)].trimmingWhitespace()
      }
      guard !name.isEmpty, let value = try? Templates.JSONValue(parsing: arguments), case .object = value else { return nil }
      calls.append(ToolCall(id: newID(), name: name, arguments: value.compactText))
      rest = end.map { body[$0.upperBound...] } ?? ""
    }
    guard !calls.isEmpty else { return nil }
    var after = String(rest)
    if let close = after.range(of: "<｜tool▁calls▁end｜>") { after.removeSubrange(close) }
    return ParsedToolCalls(content: (String(text[..<begin.lowerBound]) + after).trimmingWhitespace(), calls: calls)
  }

  /// The whole output (code fences allowed) as a call, a list of calls, or `{"tool_calls": […]}`
  /// / `{"tool_call": {…}}`.
  static func parseGeneric(_ text: String, _ newID: () -> String) -> ParsedToolCalls? {
    var body = text.trimmingWhitespace()
    if body.hasPrefix("```") {
      guard let firstNewline = body.firstIndex(of: "\n"), body.hasSuffix("```"), body.count > 6 else { return nil }
      body = body[body.index(after: firstNewline)..<body.index(body.endIndex, offsetBy: -3)].trimmingWhitespace()
    }
    guard let value = try? Templates.JSONValue(parsing: body) else { return nil }
    var items: [Templates.JSONValue]
    switch value {
    case .array(let list): items = list
    case .object:
      if case .array(let list)? = value["tool_calls"] {
        items = list
      } else if let one = value["tool_call"] {
        items = [one]
      } else {
        items = [value]
      }
    default: return nil
    }
    var calls: [ToolCall] = []
    for item in items {
      guard let call = call(from: item, newID) else { return nil }
      calls.append(call)
    }
    return calls.isEmpty ? nil : ParsedToolCalls(content: "", calls: calls)
  }

  private static func callObject(_ text: Substring, _ newID: () -> String) -> ToolCall? {
    guard let value = try? Templates.JSONValue(parsing: String(text.trimmingWhitespace())) else { return nil }
    return call(from: value, newID)
  }

  /// `{"name": …, "arguments"|"parameters": {…} or "…json…"}`, also nested as
  /// `{"function": {…}}` (OpenAI's own shape); arguments default to `{}`.
  static func call(from value: Templates.JSONValue, _ newID: () -> String) -> ToolCall? {
    if let function = value["function"], case .object = function, value["name"] == nil {
      return call(from: function, newID).map { c in
        var c = c
        if let id = value["id"]?.stringValue, !id.isEmpty { c.id = id }
        return c
      }
    }
    guard case .object = value, let name = value["name"]?.stringValue, !name.isEmpty else { return nil }
    let arguments: String
    switch value["arguments"] ?? value["parameters"] {
    case nil, .null?: arguments = "{}"
    case .string(let s)?:
      // Some models write the arguments as a JSON string, as OpenAI sends them.
      guard let parsed = try? Templates.JSONValue(parsing: s), case .object = parsed else { return nil }
      arguments = parsed.compactText
    case .object?: arguments = (value["arguments"] ?? value["parameters"])!.compactText
    default: return nil
    }
    let id = value["id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? newID()
    return ToolCall(id: id, name: name, arguments: arguments)
  }

  /// Where the JSON object or array at the start of `text` ends (just past its closing bracket),
  /// tracking strings and escapes; nil when it does not close.
  static func jsonEnd(_ text: Substring) -> String.Index? {
    guard let first = text.first, first == "{" || first == "[" else { return nil }
    var depth = 0
    var inString = false
    var escaped = false
    var i = text.startIndex
    while i < text.endIndex {
      let c = text[i]
      if inString {
        if escaped {
          escaped = false
        } else if c == "\\" {
          escaped = true
        } else if c == "\"" {
          inString = false
        }
      } else {
        switch c {
        case "\"": inString = true
        case "{", "[": depth += 1
        case "}", "]":
          depth -= 1
          if depth == 0 { return text.index(after: i) }
        default: break
        }
      }
      i = text.index(after: i)
    }
    return nil
  }
}

extension StringProtocol {
  func trimmingLeadingWhitespace() -> SubSequence {
    self[(firstIndex { !$0.isWhitespace } ?? endIndex)...]
  }

  func trimmingWhitespace() -> String {
    guard let start = firstIndex(where: { !$0.isWhitespace }), let end = lastIndex(where: { !$0.isWhitespace }) else {
      return ""
    }
    return String(self[start...end])
  }
}
