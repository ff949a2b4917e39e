/// Why a template could not be parsed or rendered.
public enum JinjaError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The template text is not valid in the supported Jinja subset.
  case syntax(String, line: Int)
  /// The template called `raise_exception(message)`: the input breaks the template's rules
  /// (e.g. roles that do not alternate). Servers answer 400 with this message.
  case raised(String)
  /// Rendering failed: a type error, an unknown filter, division by zero, …
  case runtime(String)
  /// Rendering exceeded a step, recursion or output-size cap.
  case limitExceeded(String)

  public var description: String {
    switch self {
    case .syntax(let why, let line): "chat template syntax error on line \(line): \(why)"
    case .raised(let message): message
    case .runtime(let why): "chat template error: \(why)"
    case .limitExceeded(let why): "chat template exceeded a limit: \(why)"
    }
  }
}

/// One token inside `{{ }}` or `{% %}`.
enum JinjaToken: Equatable, Sendable {
  case name(String)
  case string(String)
  case int(Int)
  case double(Double)
  case op(String)
}

/// The template cut into literal text and tags, after whitespace control.
enum JinjaSegment: Sendable {
  case text(String)
  case output([JinjaToken], line: Int)
  case statement([JinjaToken], line: Int)
}

/// Splits template source into segments and tags into tokens, applying whitespace control the way
/// HF transformers configures Jinja: `trim_blocks` (drop the newline after a block or comment tag)
/// and `lstrip_blocks` (drop spaces and tabs before a block or comment tag that starts a line),
/// plus the explicit `-` and `+` markers.
struct JinjaLexer {
  private let s: [UInt8]
  private var i = 0
  private var line = 1

  init(_ source: String) {
    // Jinja normalises newlines in template text.
    s = Array(source.replacingOccurrences(of: "\r\n", with: "\n").utf8)
  }

  private enum TagKind { case output, statement, comment }

  /// A text run and what follows it, before stripping.
  private struct Raw {
    var text: [UInt8]
    var kind: TagKind?
    var tokens: [JinjaToken] = []
    var line = 1
    var stripBefore = false  // `{{-`
    var keepBefore = false  // `{%+`
    var stripAfter = false  // `-%}`
    var keepAfter = false  // `+%}`
  }

  mutating func segments() throws(JinjaError) -> [JinjaSegment] {
    var raws: [Raw] = []
    while true {
      // Find the next tag opening.
      let start = i
      var kind: TagKind?
      while i + 1 < s.count {
        if s[i] == UInt8(ascii: "{") {
          let n = s[i + 1]
          if n == UInt8(ascii: "{") { kind = .output } else if n == UInt8(ascii: "%") { kind = .statement } else if n
            == UInt8(ascii: "#")
          {
            kind = .comment
          }
          if kind != nil { break }
        }
        if s[i] == 0x0A { line += 1 }
        i += 1
      }
      guard let kind else {
        raws.append(Raw(text: Array(s[start...])))
        break
      }
      var raw = Raw(text: Array(s[start..<i]), kind: kind, line: line)
      i += 2
      if i < s.count, s[i] == UInt8(ascii: "-") {
        raw.stripBefore = true
        i += 1
      } else if i < s.count, s[i] == UInt8(ascii: "+") {
        raw.keepBefore = true
        i += 1
      }
      if kind == .comment {
        try skipComment(&raw)
      } else {
        if kind == .statement, try rawBlock(&raw) {
          raws.append(raw)
          continue
        }
        try tagTokens(&raw, closer: kind == .output ? UInt8(ascii: "}") : UInt8(ascii: "%"))
      }
      raws.append(raw)
    }
    return strip(raws)
  }

  /// `{% raw %}…{% endraw %}` becomes literal text.
  private mutating func rawBlock(_ raw: inout Raw) throws(JinjaError) -> Bool {
    var j = i
    while j < s.count, s[j] == 0x20 { j += 1 }
    guard j + 3 <= s.count, s[j..<(j + 3)].elementsEqual("raw".utf8) else { return false }
    j += 3
    while j < s.count, s[j] == 0x20 || s[j] == UInt8(ascii: "-") { j += 1 }
    guard j + 1 < s.count, s[j] == UInt8(ascii: "%"), s[j + 1] == UInt8(ascii: "}") else { return false }
    j += 2
    let marker = Array("endraw".utf8)
    var k = j
    while k + marker.count <= s.count {
      if s[k..<(k + marker.count)].elementsEqual(marker) {
        var open = k - 1
        while open > j, s[open] == 0x20 || s[open] == UInt8(ascii: "-") { open -= 1 }
        if open >= j + 1, s[open] == UInt8(ascii: "%"), s[open - 1] == UInt8(ascii: "{") {
          var close = k + marker.count
          while close < s.count, s[close] == 0x20 || s[close] == UInt8(ascii: "-") { close += 1 }
          guard close + 1 < s.count, s[close] == UInt8(ascii: "%"), s[close + 1] == UInt8(ascii: "}") else { break }
          raw.tokens = [.name("raw"), .string(String(decoding: s[j..<(open - 1)], as: UTF8.self))]
          for b in s[i..<(close + 2)] where b == 0x0A { line += 1 }
          i = close + 2
          return true
        }
      }
      k += 1
    }
    throw .syntax("raw block without endraw", line: line)
  }

  private mutating func skipComment(_ raw: inout Raw) throws(JinjaError) {
    while i + 1 < s.count {
      if s[i] == UInt8(ascii: "#"), s[i + 1] == UInt8(ascii: "}") {
        raw.stripAfter = i > 0 && s[i - 1] == UInt8(ascii: "-")
        i += 2
        return
      }
      if s[i] == 0x0A { line += 1 }
      i += 1
    }
    throw .syntax("unterminated comment", line: raw.line)
  }

  private mutating func tagTokens(_ raw: inout Raw, closer: UInt8) throws(JinjaError) {
    var tokens: [JinjaToken] = []
    while true {
      while i < s.count, s[i] == 0x20 || s[i] == 0x09 || s[i] == 0x0A || s[i] == 0x0D {
        if s[i] == 0x0A { line += 1 }
        i += 1
      }
      guard i < s.count else { throw .syntax("unterminated tag", line: raw.line) }
      let c = s[i]
      // Closing delimiter, possibly with a whitespace marker.
      if (c == UInt8(ascii: "-") || c == UInt8(ascii: "+")), i + 2 < s.count, s[i + 1] == closer,
        s[i + 2] == UInt8(ascii: "}")
      {
        if c == UInt8(ascii: "-") { raw.stripAfter = true } else { raw.keepAfter = true }
        i += 3
        break
      }
      if c == closer, i + 1 < s.count, s[i + 1] == UInt8(ascii: "}") {
        i += 2
        break
      }
      if isNameStart(c) {
        let st = i
        while i < s.count, isNameStart(s[i]) || (s[i] >= 0x30 && s[i] <= 0x39) { i += 1 }
        tokens.append(.name(String(decoding: s[st..<i], as: UTF8.self)))
      } else if c >= 0x30 && c <= 0x39 {
        tokens.append(try number())
      } else if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
        tokens.append(.string(try string(quote: c)))
      } else {
        let two = i + 1 < s.count ? String(decoding: s[i...(i + 1)], as: UTF8.self) : ""
        if ["**", "//", "==", "!=", "<=", ">="].contains(two) {
          tokens.append(.op(two))
          i += 2
        } else if "+-*/%~<>=()[]{},.:|!".utf8.contains(c) {
          tokens.append(.op(String(UnicodeScalar(c))))
          i += 1
        } else {
          throw .syntax("unexpected character '\(String(decoding: [c], as: UTF8.self))'", line: line)
        }
      }
    }
    raw.tokens = tokens
  }

  private func isNameStart(_ c: UInt8) -> Bool {
    (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || c == UInt8(ascii: "_")
  }

  private mutating func number() throws(JinjaError) -> JinjaToken {
    let st = i
    var isDouble = false
    while i < s.count, (s[i] >= 0x30 && s[i] <= 0x39) || s[i] == UInt8(ascii: "_") { i += 1 }
    if i + 1 < s.count, s[i] == UInt8(ascii: "."), s[i + 1] >= 0x30, s[i + 1] <= 0x39 {
      isDouble = true
      i += 1
      while i < s.count, s[i] >= 0x30 && s[i] <= 0x39 { i += 1 }
    }
    if i < s.count, s[i] == UInt8(ascii: "e") || s[i] == UInt8(ascii: "E") {
      var j = i + 1
      if j < s.count, s[j] == UInt8(ascii: "+") || s[j] == UInt8(ascii: "-") { j += 1 }
      if j < s.count, s[j] >= 0x30, s[j] <= 0x39 {
        isDouble = true
        i = j
        while i < s.count, s[i] >= 0x30 && s[i] <= 0x39 { i += 1 }
      }
    }
    let text = String(decoding: s[st..<i], as: UTF8.self).replacingOccurrences(of: "_", with: "")
    if !isDouble, let v = Int(text) { return .int(v) }
    guard let d = Double(text) else { throw .syntax("bad number \(text)", line: line) }
    return .double(d)
  }

  private mutating func string(quote: UInt8) throws(JinjaError) -> String {
    i += 1
    var out: [UInt8] = []
    while i < s.count {
      let c = s[i]
      if c == quote {
        i += 1
        return String(decoding: out, as: UTF8.self)
      }
      if c == 0x0A { line += 1 }
      if c == UInt8(ascii: "\\"), i + 1 < s.count {
        let e = s[i + 1]
        i += 2
        switch e {
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): out.append(e)
        case UInt8(ascii: "u") where i + 4 <= s.count:
          if let v = UInt32(String(decoding: s[i..<(i + 4)], as: UTF8.self), radix: 16), let u = Unicode.Scalar(v) {
            out.append(contentsOf: Array(String(Character(u)).utf8))
            i += 4
          } else {
            out.append(contentsOf: [UInt8(ascii: "\\"), e])
          }
        default: out.append(contentsOf: [UInt8(ascii: "\\"), e])
        }
        continue
      }
      out.append(c)
      i += 1
    }
    throw .syntax("unterminated string", line: line)
  }

  /// Applies `-`/`+` markers, `trim_blocks` and `lstrip_blocks` to the text runs.
  private func strip(_ raws: [Raw]) -> [JinjaSegment] {
    var texts = raws.map(\.text)
    func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C }
    // Whether the text run `k` begins at the start of a line.
    var lineStarting = true
    for k in raws.indices {
      let r = raws[k]
      if k > 0 {
        let prev = raws[k - 1]
        if prev.stripAfter {
          texts[k] = Array(texts[k].drop(while: isSpace))
        } else if prev.kind != .output, !prev.keepAfter, texts[k].first == 0x0A {
          texts[k].removeFirst()  // trim_blocks
          lineStarting = true
        }
      }
      guard let kind = r.kind else { continue }
      if r.stripBefore {
        while let last = texts[k].last, isSpace(last) { texts[k].removeLast() }
      } else if kind != .output, !r.keepBefore {
        // lstrip_blocks: only spaces and tabs between the line start and the tag.
        let lineStart = (texts[k].lastIndex(of: 0x0A).map { $0 + 1 }) ?? 0
        if lineStart > 0 || lineStarting {
          let tail = texts[k][lineStart...]
          if !tail.isEmpty, tail.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
            texts[k].removeLast(tail.count)
          }
        }
      }
      lineStarting = false
    }
    var out: [JinjaSegment] = []
    for (k, r) in raws.enumerated() {
      if !texts[k].isEmpty { out.append(.text(String(decoding: texts[k], as: UTF8.self))) }
      switch r.kind {
      case .output: out.append(.output(r.tokens, line: r.line))
      case .statement: out.append(.statement(r.tokens, line: r.line))
      case .comment, nil: break
      }
    }
    return out
  }
}
