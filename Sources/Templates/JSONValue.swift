import Foundation

/// A JSON document as plain data: request fields such as `tools` or a `response_format` schema,
/// and the inputs of a chat template.
///
/// Objects keep their members in document order because templates print tools with `tojson`
/// and a model was trained on one particular order. `init(parsing:)` keeps that order, and so
/// does decoding through `JSONValue.decodeKeepingOrder`; a plain `JSONDecoder` cannot see it and
/// the keys come out sorted instead.
public enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JSONValue])
  /// Members in document order; a repeated key keeps its last value in its first position.
  case object([(key: String, value: JSONValue)])

  public static func == (a: JSONValue, b: JSONValue) -> Bool {
    switch (a, b) {
    case (.null, .null): true
    case (.bool(let x), .bool(let y)): x == y
    case (.number(let x), .number(let y)): x == y
    case (.string(let x), .string(let y)): x == y
    case (.array(let x), .array(let y)): x == y
    case (.object(let x), .object(let y)):
      x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    default: false
    }
  }

  /// The member named `key` of an object.
  public subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.last { $0.key == key }?.value
  }

  public var isArray: Bool {
    if case .array = self { return true }
    return false
  }

  public var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  /// Parses JSON text, keeping object member order. Nesting deeper than `maxDepth` is refused so
  /// that a hostile request cannot exhaust the stack.
  public init(parsing text: String, maxDepth: Int = 128) throws(JSONParseError) {
    var p = JSONTextParser(bytes: Array(text.utf8), maxDepth: maxDepth)
    self = try p.parseDocument()
  }

  /// Compact JSON text (`{"a":1}`), the form `const`/`enum` values must take in constrained output.
  public var compactText: String {
    var out = ""
    JSONValue.write(self, into: &out, pythonSpacing: false)
    return out
  }

  /// Writes JSON the way Python's `json.dumps(ensure_ascii=False)` does, which is what
  /// HF chat templates see through `tojson` (separators `", "` and `": "`).
  static func write(_ v: JSONValue, into out: inout String, pythonSpacing: Bool) {
    switch v {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .number(let d): out += JSONValue.numberText(d)
    case .string(let s): writeString(s, into: &out)
    case .array(let items):
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += pythonSpacing ? ", " : "," }
        write(item, into: &out, pythonSpacing: pythonSpacing)
      }
      out += "]"
    case .object(let members):
      out += "{"
      for (i, m) in members.enumerated() {
        if i > 0 { out += pythonSpacing ? ", " : "," }
        writeString(m.key, into: &out)
        out += pythonSpacing ? ": " : ":"
        write(m.value, into: &out, pythonSpacing: pythonSpacing)
      }
      out += "}"
    }
  }

  /// Integers print without a fraction (JSON has one number type; `1` stays `1`).
  static func numberText(_ d: Double) -> String {
    if !d.isFinite { return d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity") }
    if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
    return "\(d)"
  }

  package static func writeString(_ s: String, into out: inout String) {
    out += "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      default:
        if u.value < 0x20 {
          out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count)
            + String(u.value, radix: 16)
        } else {
          out.unicodeScalars.append(u)
        }
      }
    }
    out += "\""
  }
}

extension JSONValue: Codable {
  private struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  public init(from decoder: any Decoder) throws {
    // The same value as parsed in document order, when the decoder was given the document
    // (`JSONValue.decodeKeepingOrder`); the kinds are checked, so a mismatch decodes as below.
    if let twin = JSONValue.documentTwin(for: decoder) {
      if case .object = twin, (try? decoder.container(keyedBy: Key.self)) != nil {
        self = twin
        return
      }
      if case .array = twin, (try? decoder.unkeyedContainer()) != nil {
        self = twin
        return
      }
    }
    if let keyed = try? decoder.container(keyedBy: Key.self) {
      let keys = keyed.allKeys.map(\.stringValue).sorted()
      self = .object(try keys.map { ($0, try keyed.decode(JSONValue.self, forKey: Key(stringValue: $0))) })
      return
    }
    if var list = try? decoder.unkeyedContainer() {
      var items: [JSONValue] = []
      while !list.isAtEnd { items.append(try list.decode(JSONValue.self)) }
      self = .array(items)
      return
    }
    let single = try decoder.singleValueContainer()
    if single.decodeNil() {
      self = .null
    } else if let b = try? single.decode(Bool.self) {
      self = .bool(b)
    } else if let d = try? single.decode(Double.self) {
      self = .number(d)
    } else {
      self = .string(try single.decode(String.self))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    switch self {
    case .null:
      var c = encoder.singleValueContainer()
      try c.encodeNil()
    case .bool(let b):
      var c = encoder.singleValueContainer()
      try c.encode(b)
    case .number(let d):
      var c = encoder.singleValueContainer()
      try c.encode(d)
    case .string(let s):
      var c = encoder.singleValueContainer()
      try c.encode(s)
    case .array(let items):
      var c = encoder.unkeyedContainer()
      for i in items { try c.encode(i) }
    case .object(let members):
      var c = encoder.container(keyedBy: Key.self)
      for m in members { try c.encode(m.value, forKey: Key(stringValue: m.key)) }
    }
  }
}

/// Why JSON text could not be parsed.
public struct JSONParseError: Error, CustomStringConvertible, Equatable {
  public var offset: Int
  public var reason: String
  public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

/// A strict RFC 8259 parser over UTF-8 bytes.
struct JSONTextParser {
  let bytes: [UInt8]
  let maxDepth: Int
  var i = 0

  init(bytes: [UInt8], maxDepth: Int) {
    self.bytes = bytes
    self.maxDepth = maxDepth
  }

  mutating func parseDocument() throws(JSONParseError) -> JSONValue {
    let v = try value(depth: 0)
    skipSpace()
    if i != bytes.count { throw fail("trailing characters") }
    return v
  }

  private func fail(_ why: String) -> JSONParseError { JSONParseError(offset: i, reason: why) }

  private mutating func skipSpace() {
    while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
  }

  private mutating func literal(_ word: String, _ v: JSONValue) throws(JSONParseError) -> JSONValue {
    let w = Array(word.utf8)
    guard i + w.count <= bytes.count, Array(bytes[i..<(i + w.count)]) == w else { throw fail("unexpected character") }
    i += w.count
    return v
  }

  private mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
    guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
    skipSpace()
    guard i < bytes.count else { throw fail("unexpected end") }
    switch bytes[i] {
    case UInt8(ascii: "{"):
      i += 1
      var members: [(key: String, value: JSONValue)] = []
      var index: [String: Int] = [:]
      skipSpace()
      if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
        i += 1
        return .object(members)
      }
      while true {
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
        let key = try string()
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
        i += 1
        let v = try value(depth: depth + 1)
        if let at = index[key] {
          members[at].value = v
        } else {
          index[key] = members.count
          members.append((key, v))
        }
        skipSpace()
        guard i < bytes.count else { throw fail("unexpected end") }
        if bytes[i] == UInt8(ascii: ",") {
          i += 1
        } else if bytes[i] == UInt8(ascii: "}") {
          i += 1
          return .object(members)
        } else {
          throw fail("expected ',' or '}'")
        }
      }
    case UInt8(ascii: "["):
      i += 1
      var items: [JSONValue] = []
      skipSpace()
      if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
        i += 1
        return .array(items)
      }
      while true {
        items.append(try value(depth: depth + 1))
        skipSpace()
        guard i < bytes.count else { throw fail("unexpected end") }
        if bytes[i] == UInt8(ascii: ",") {
          i += 1
        } else if bytes[i] == UInt8(ascii: "]") {
          i += 1
          return .array(items)
        } else {
          throw fail("expected ',' or ']'")
        }
      }
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"): return try literal("true", .bool(true))
    case UInt8(ascii: "f"): return try literal("false", .bool(false))
    case UInt8(ascii: "n"): return try literal("null", .null)
    default: return try number()
    }
  }

  private mutating func number() throws(JSONParseError) -> JSONValue {
    let start = i
    func digits(_ p: inout JSONTextParser) -> Int {
      let s = p.i
      while p.i < p.bytes.count, p.bytes[p.i] >= 0x30, p.bytes[p.i] <= 0x39 { p.i += 1 }
      return p.i - s
    }
    if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
    guard i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 else { throw fail("unexpected character") }
    if bytes[i] == 0x30 { i += 1 } else { _ = digits(&self) }
    if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
      i += 1
      guard digits(&self) > 0 else { throw fail("expected a digit") }
    }
    if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
      i += 1
      if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
      guard digits(&self) > 0 else { throw fail("expected a digit") }
    }
    guard let d = Double(String(decoding: bytes[start..<i], as: UTF8.self)) else { throw fail("bad number") }
    return .number(d)
  }

  private mutating func hex4() throws(JSONParseError) -> UInt32 {
    guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16)
    else { throw fail("bad \\u escape") }
    i += 4
    return v
  }

  private mutating func string() throws(JSONParseError) -> String {
    i += 1  // opening quote
    var out: [UInt8] = []
    while true {
      guard i < bytes.count else { throw fail("unterminated string") }
      let b = bytes[i]
      if b == UInt8(ascii: "\"") {
        i += 1
        break
      }
      if b < 0x20 { throw fail("control character in string") }
      if b != UInt8(ascii: "\\") {
        out.append(b)
        i += 1
        continue
      }
      i += 1
      guard i < bytes.count else { throw fail("unterminated string") }
      let e = bytes[i]
      i += 1
      switch e {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "u"):
        var code = try hex4()
        if code >= 0xD800, code < 0xDC00, i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"),
          bytes[i + 1] == UInt8(ascii: "u")
        {
          i += 2
          let low = try hex4()
          guard low >= 0xDC00, low < 0xE000 else { throw fail("unpaired surrogate") }
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(code) else { throw fail("unpaired surrogate") }
        out.append(contentsOf: Array(String(Character(scalar)).utf8))
      default: throw fail("bad escape")
      }
    }
    return String(decoding: out, as: UTF8.self)
  }
}
