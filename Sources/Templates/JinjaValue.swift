import Foundation

/// A mapping that keeps insertion order, as Python dicts do (templates print them with `tojson`).
struct JinjaObject {
  var keys: [String] = []
  var values: [String: JinjaValue] = [:]

  subscript(key: String) -> JinjaValue? {
    get { values[key] }
    set {
      if values[key] == nil, newValue != nil { keys.append(key) }
      if newValue == nil { keys.removeAll { $0 == key } }
      values[key] = newValue
    }
  }
}

/// The mutable object `namespace()` returns: the one way a loop body can change outer state.
final class JinjaNamespace {
  var members = JinjaObject()
}

/// A callable: a global such as `range`, a macro, or a bound method.
struct JinjaFunction {
  let name: String
  let call: ([JinjaValue], [(String, JinjaValue)]) throws(JinjaError) -> JinjaValue
}

/// A runtime value, with Python's semantics where templates depend on them.
indirect enum JinjaValue {
  case undefined
  case none
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)
  /// A string marked safe (`|safe`, `|escape`): Python's `markupsafe.Markup`. jinja2 escapes
  /// plain strings concatenated onto one with `+` even when autoescape is off, and templates
  /// (functionary's) depend on that; everywhere else it acts as a string.
  case markup(String)
  case array([JinjaValue])
  case object(JinjaObject)
  case namespace(JinjaNamespace)
  case function(JinjaFunction)

  init(_ json: JSONValue) {
    switch json {
    case .null: self = .none
    case .bool(let b): self = .bool(b)
    case .number(let d):
      // JSON has one number type; whole numbers act as Python ints (`loop.index0 % 2 == 0`, `tojson`).
      if d == d.rounded(), abs(d) < 9e15 { self = .int(Int(d)) } else { self = .double(d) }
    case .string(let s): self = .string(s)
    case .array(let items): self = .array(items.map(JinjaValue.init))
    case .object(let members):
      var o = JinjaObject()
      for m in members { o[m.key] = JinjaValue(m.value) }
      self = .object(o)
    }
  }

  /// The value with a `markup` string turned into a plain one.
  var plain: JinjaValue {
    if case .markup(let s) = self { return .string(s) }
    return self
  }

  var isUndefined: Bool {
    if case .undefined = self { return true }
    return false
  }

  var isNone: Bool {
    if case .none = self { return true }
    return false
  }

  var typeName: String {
    switch self {
    case .undefined: "undefined"
    case .none: "none"
    case .bool: "boolean"
    case .int: "integer"
    case .double: "float"
    case .string, .markup: "string"
    case .array: "list"
    case .object: "dict"
    case .namespace: "namespace"
    case .function: "function"
    }
  }

  /// Python truthiness.
  var truthy: Bool {
    switch self {
    case .undefined, .none: false
    case .bool(let b): b
    case .int(let i): i != 0
    case .double(let d): d != 0
    case .string(let s), .markup(let s): !s.isEmpty
    case .array(let a): !a.isEmpty
    case .object(let o): !o.keys.isEmpty
    case .namespace, .function: true
    }
  }

  var asDouble: Double? {
    switch self {
    case .int(let i): Double(i)
    case .double(let d): d
    case .bool(let b): b ? 1 : 0
    default: nil
    }
  }

  /// What `{{ value }}` prints: Python's `str()`.
  var text: String {
    switch self {
    case .undefined: ""
    case .string(let s), .markup(let s): s
    default: repr
    }
  }

  /// Python's `repr()`, used for containers printed directly.
  var repr: String { repr(depth: 0) }

  /// `repr` that gives up past 64 levels, since a namespace can contain itself.
  func repr(depth: Int) -> String {
    if depth > 64 { return "..." }
    switch self {
    case .undefined: return ""
    case .none: return "None"
    case .bool(let b): return b ? "True" : "False"
    case .int(let i): return String(i)
    case .double(let d): return JinjaValue.pythonFloat(d)
    case .markup(let s): return "Markup(" + JinjaValue.string(s).repr + ")"
    case .string(let s):
      let quote = s.contains("'") && !s.contains("\"") ? "\"" : "'"
      var out = quote
      for c in s.unicodeScalars {
        switch c {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
          if String(c) == quote { out += "\\" + quote } else { out.unicodeScalars.append(c) }
        }
      }
      return out + quote
    case .array(let a): return "[" + a.map { $0.repr(depth: depth + 1) }.joined(separator: ", ") + "]"
    case .object(let o):
      return "{"
        + o.keys.map { JinjaValue.string($0).repr + ": " + (o.values[$0] ?? .none).repr(depth: depth + 1) }
        .joined(separator: ", ")
        + "}"
    case .namespace(let n):
      return "<Namespace "
        + n.members.keys.map { "\($0)=\((n.members.values[$0] ?? .none).repr(depth: depth + 1))" }
        .joined(separator: ", ")
        + ">"
    case .function(let f): return "<function \(f.name)>"
    }
  }

  /// Container nesting below this value, counting at most `limit + 1` levels; `visited` counts
  /// the values looked at, for the step budget.
  func nestingDepth(limit: Int, visited: inout Int) -> Int {
    func deepest<S: Sequence>(_ items: S) -> Int where S.Element == JinjaValue {
      guard limit > 0 else { return 1 }
      var m = 0
      for x in items {
        visited += 1
        m = max(m, x.nestingDepth(limit: limit - 1, visited: &visited))
        if m >= limit { break }
      }
      return m + 1
    }
    switch self {
    case .array(let a): return deepest(a)
    case .object(let o): return deepest(o.keys.lazy.map { o.values[$0] ?? .none })
    default: return 0
    }
  }

  static func pythonFloat(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d > 0 ? "inf" : "-inf" }
    return "\(d)"
  }

  /// Python equality (1 == 1.0; containers compare element-wise).
  static func equal(_ a: JinjaValue, _ b: JinjaValue) -> Bool {
    switch (a.plain, b.plain) {
    case (.undefined, .undefined), (.none, .none): return true
    case (.string(let x), .string(let y)): return x == y
    case (.bool(let x), .bool(let y)): return x == y
    case (.int, .int), (.int, .double), (.double, .int), (.double, .double):
      if case .int(let x) = a, case .int(let y) = b { return x == y }
      return a.asDouble == b.asDouble
    case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
    case (.object(let x), .object(let y)):
      return x.keys.count == y.keys.count
        && x.keys.allSatisfy { k in y.values[k].map { equal(x.values[k]!, $0) } ?? false }
    case (.namespace(let x), .namespace(let y)): return x === y
    default: return false
    }
  }

  /// Python ordering for `<`, `sort`; nil when the types do not compare.
  static func less(_ a: JinjaValue, _ b: JinjaValue) -> Bool? {
    let a = a.plain
    let b = b.plain
    switch (a, b) {
    case (.string(let x), .string(let y)): return x < y
    case (.array(let x), .array(let y)):
      for (p, q) in zip(x, y) where !equal(p, q) { return less(p, q) }
      return x.count < y.count
    default:
      if let x = a.asDouble, let y = b.asDouble { return x < y }
      return nil
    }
  }

  /// `tojson` as HF transformers defines it: Python's `json.dumps` with `ensure_ascii=False`
  /// unless `style` says otherwise.
  func json(_ style: JSONStyle = JSONStyle(), depth: Int = 0) throws(JinjaError) -> String {
    guard depth < 64 else { throw .limitExceeded("tojson nesting deeper than 64") }
    func pad(_ level: Int) -> String { style.indent.map { "\n" + String(repeating: $0, count: level) } ?? "" }
    func string(_ s: String) -> String {
      var out = ""
      JSONValue.writeString(s, into: &out)
      return style.ensureASCII ? JinjaValue.asciiEscaped(out) : out
    }
    switch self {
    case .undefined, .none: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .int(let i): return String(i)
    case .double(let d):
      if d.isNaN { return "NaN" }
      if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
      return "\(d)"
    case .string(let s), .markup(let s): return string(s)
    case .array(let a):
      if a.isEmpty { return "[]" }
      var parts: [String] = []
      for item in a { parts.append(try item.json(style, depth: depth + 1)) }
      return "[" + parts.map { pad(depth + 1) + $0 }.joined(separator: style.itemSeparator) + pad(depth) + "]"
    case .object(let o):
      if o.keys.isEmpty { return "{}" }
      var parts: [String] = []
      let keys = style.sortKeys ? o.keys.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) } : o.keys
      for k in keys {
        let value = try (o.values[k] ?? .none).json(style, depth: depth + 1)
        parts.append(pad(depth + 1) + string(k) + style.keySeparator + value)
      }
      return "{" + parts.joined(separator: style.itemSeparator) + pad(depth) + "}"
    case .namespace(let n): return try JinjaValue.object(n.members).json(style, depth: depth)
    case .function(let f): throw .runtime("cannot serialise function \(f.name) to JSON")
    }
  }

  /// `json.dumps(ensure_ascii=True)`: every non-ASCII scalar as `\uXXXX` (UTF-16 surrogates above
  /// U+FFFF), lower-case hex.
  static func asciiEscaped(_ json: String) -> String {
    var out = ""
    for u in json.unicodeScalars {
      if u.isASCII {
        out.unicodeScalars.append(u)
        continue
      }
      for unit in String(u).utf16 {
        let hex = String(unit, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      }
    }
    return out
  }
}

/// The formatting arguments of Python's `json.dumps` that templates pass to `tojson`.
struct JSONStyle {
  /// Each nesting level's indent; nil prints everything on one line.
  var indent: String?
  var ensureASCII = false
  var sortKeys = false
  var itemSeparator: String
  var keySeparator = ": "

  init(indent: String? = nil, ensureASCII: Bool = false, sortKeys: Bool = false, separators: (String, String)? = nil) {
    self.indent = indent
    self.ensureASCII = ensureASCII
    self.sortKeys = sortKeys
    // Python's defaults: ", " on one line, "," when indenting (no trailing spaces).
    itemSeparator = separators?.0 ?? (indent == nil ? ", " : ",")
    keySeparator = separators?.1 ?? ": "
  }
}
