import Templates
/// Why a `response_format` schema cannot be enforced.
public enum JSONSchemaError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The schema uses keywords the constraint does not implement, at a JSON-pointer-like path.
  case unsupportedKeywords([String], at: String)
  /// The schema is malformed or cannot be satisfied.
  case invalid(String, at: String)

  public var description: String {
    switch self {
    case .unsupportedKeywords(let k, let path):
      "unsupported JSON Schema keyword\(k.count == 1 ? "" : "s") \(k.joined(separator: ", ")) at \(path)"
    case .invalid(let why, let path): "invalid JSON Schema at \(path): \(why)"
    }
  }
}

/// A JSON Schema compiled into flat tables the byte automaton reads without allocating.
///
/// Each node is one kind of value. Alternatives (`anyOf`, type lists, "any value") are kept only
/// when their first bytes differ, so the automaton can pick the branch from the first byte and
/// stays deterministic.
final class JSONGrammar: @unchecked Sendable {
  enum Kind: UInt8 {
    case union, object, array, string, number, integer, literals
  }

  /// One node; the meaning of `start`/`count`/`child`/`minimum`/`maximum` depends on `kind`.
  struct Node {
    var kind: Kind
    /// Which bytes can start a value of this node (a 256-bit set).
    var first: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    /// object: first property row; literals: first literal row; union: first branch.
    var start: Int32 = 0
    var count: Int32 = 0
    /// object: node of additional properties or -1; array: node of items.
    var child: Int32 = -1
    var minimum: Int32 = 0
    var maximum: Int32 = .max
    /// object: bit i set when property i is required.
    var required: UInt64 = 0

    func startsWith(_ b: UInt8) -> Bool {
      let word: UInt64
      switch b >> 6 {
      case 0: word = first.0
      case 1: word = first.1
      case 2: word = first.2
      default: word = first.3
      }
      return word & (1 << UInt64(b & 63)) != 0
    }

    mutating func addFirst(_ b: UInt8) {
      let bit: UInt64 = 1 << UInt64(b & 63)
      switch b >> 6 {
      case 0: first.0 |= bit
      case 1: first.1 |= bit
      case 2: first.2 |= bit
      default: first.3 |= bit
      }
    }
  }

  /// A byte string in `bytes`: a property name as it appears between quotes, or a literal's text.
  struct Span {
    var start: Int32
    var length: Int32
  }

  private(set) var nodes: [Node] = []
  /// Property names, sorted by bytes within each object, and the node of each property's value.
  private(set) var keys: [Span] = []
  private(set) var keyNodes: [Int32] = []
  /// Per property, the properties (as bits of the object's sorted rows) that come before it in the
  /// schema: the output names properties in the schema's order, as OpenAI's strict mode and
  /// llama.cpp's schema grammars do.
  private(set) var keyBefore: [UInt64] = []
  /// Literal texts (`enum`, `const`, `true`…), sorted by bytes within each node.
  private(set) var literals: [Span] = []
  private(set) var branches: [Int32] = []
  private(set) var bytes: [UInt8] = []
  private(set) var root: Int32 = 0

  /// Raw-pointer copies of the tables, made once compiling is done; freed with the grammar.
  private(set) var tables: Tables?
  private var refs: [String: Int32] = [:]
  /// `$ref` nodes whose definitions are still being compiled (their contents are not known yet).
  private var inProgress: Set<Int32> = []
  private var document: JSONValue = .null
  private var compileDepth = 0

  /// Annotations that do not constrain the output.
  private static let ignored: Set<String> = [
    "title", "description", "$schema", "$id", "$comment", "examples", "default", "deprecated", "readOnly",
    "writeOnly", "format", "$defs", "definitions",
  ]
  private static let supported: Set<String> = [
    "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "enum", "const",
    "anyOf", "oneOf", "allOf", "$ref", "nullable",
  ]

  /// Any JSON object (`response_format: {"type": "json_object"}`).
  static func anyObject() -> JSONGrammar {
    let g = JSONGrammar()
    var object = Node(kind: .object)
    object.child = g.anyValue()
    object.addFirst(UInt8(ascii: "{"))
    g.root = g.add(object)
    g.tables = g.makeTables()
    return g
  }

  /// Compiles `schema`; throws for unsupported keywords or unsatisfiable schemas.
  init(schema: JSONValue) throws(JSONSchemaError) {
    document = schema
    root = try compile(schema, path: "#")
    try finishUnions()
    tables = makeTables()
  }

  private init() {}

  deinit { tables?.free() }

  // MARK: Building nodes

  private func add(_ n: Node) -> Int32 {
    nodes.append(n)
    return Int32(nodes.count - 1)
  }

  private func span(_ b: [UInt8]) -> Span {
    let s = Span(start: Int32(bytes.count), length: Int32(b.count))
    bytes += b
    return s
  }

  /// Literal and property-name limits keep the automaton's 16-bit positions and ranges in range.
  static let maxLiteralBytes = 4096
  static let maxLiterals = 4096

  private func checkedLiterals(_ texts: [[UInt8]], path: String) throws(JSONSchemaError) -> Int32 {
    guard texts.count <= JSONGrammar.maxLiterals else { throw .unsupportedKeywords(["enum (more than 4096 values)"], at: path) }
    guard texts.allSatisfy({ $0.count <= JSONGrammar.maxLiteralBytes }) else {
      throw .unsupportedKeywords(["enum/const (a value longer than 4096 bytes)"], at: path)
    }
    return literalsNode(texts)
  }

  private func literalsNode(_ texts: [[UInt8]]) -> Int32 {
    var n = Node(kind: .literals)
    let sorted = Array(Set(texts)).sorted { $0.lexicographicallyPrecedes($1) }
    n.start = Int32(literals.count)
    n.count = Int32(sorted.count)
    for t in sorted {
      literals.append(span(t))
      n.addFirst(t[0])
    }
    return add(n)
  }

  private func simple(_ kind: Kind) -> Int32 {
    var n = Node(kind: kind)
    switch kind {
    case .string: n.addFirst(UInt8(ascii: "\""))
    case .number, .integer:
      n.addFirst(UInt8(ascii: "-"))
      for d in UInt8(ascii: "0")...UInt8(ascii: "9") { n.addFirst(d) }
    default: break
    }
    return add(n)
  }

  /// Any JSON value: a union dispatching on the first byte.
  private func anyValue() -> Int32 {
    let any = add(Node(kind: .union))  // placeholder so nested values can refer to it
    var object = Node(kind: .object)
    object.child = any
    object.addFirst(UInt8(ascii: "{"))
    var array = Node(kind: .array)
    array.child = any
    array.addFirst(UInt8(ascii: "["))
    let parts = [
      add(object), add(array), simple(.string), simple(.number),
      literalsNode([Array("true".utf8), Array("false".utf8), Array("null".utf8)]),
    ]
    nodes[Int(any)] = unionNode(parts)
    return any
  }

  private func unionNode(_ parts: [Int32]) -> Node {
    var n = Node(kind: .union)
    n.start = Int32(branches.count)
    n.count = Int32(parts.count)
    branches += parts
    for p in parts {
      let f = nodes[Int(p)].first
      n.first.0 |= f.0
      n.first.1 |= f.1
      n.first.2 |= f.2
      n.first.3 |= f.3
    }
    return n
  }

  /// A union of `parts`, refusing alternatives that can start with the same byte.
  private func union(_ parts: [Int32], path: String) throws(JSONSchemaError) -> Int32 {
    var flat: [Int32] = []
    for p in parts {
      let n = nodes[Int(p)]
      if n.kind == .union && !inProgress.contains(p) {
        flat += branches[Int(n.start)..<Int(n.start + n.count)]
      } else {
        flat.append(p)
      }
    }
    // An integer alternative is subsumed by a number one.
    if flat.contains(where: { nodes[Int($0)].kind == .number }) {
      flat.removeAll { nodes[Int($0)].kind == .integer }
    }
    if flat.count == 1 { return flat[0] }
    for i in flat.indices {
      for j in flat.indices where j > i {
        let a = nodes[Int(flat[i])].first
        let b = nodes[Int(flat[j])].first
        if (a.0 & b.0) | (a.1 & b.1) | (a.2 & b.2) | (a.3 & b.3) != 0 {
          throw .unsupportedKeywords(["anyOf (alternatives that start with the same character)"], at: path)
        }
      }
    }
    return add(unionNode(flat))
  }

  // MARK: Compiling a schema

  private func compile(_ schema: JSONValue, path: String) throws(JSONSchemaError) -> Int32 {
    compileDepth += 1
    defer { compileDepth -= 1 }
    guard compileDepth < 64 else { throw .invalid("nested more than 64 levels", at: path) }
    switch schema {
    case .bool(true): return anyValue()
    case .bool(false): throw .invalid("the schema `false` accepts nothing", at: path)
    case .object: break
    default: throw .invalid("a schema must be an object or a boolean", at: path)
    }
    guard case .object(let members) = schema else { return 0 }
    let keys = members.map(\.key)
    let unknown = keys.filter { !JSONGrammar.supported.contains($0) && !JSONGrammar.ignored.contains($0) }
    if !unknown.isEmpty { throw .unsupportedKeywords(unknown, at: path) }

    let node = try compileKeywords(schema, path: path)
    if schema["nullable"] == .bool(true) {
      return try union([node, literalsNode([Array("null".utf8)])], path: path)
    }
    return node
  }

  private func compileKeywords(_ schema: JSONValue, path: String) throws(JSONSchemaError) -> Int32 {
    if let ref = schema["$ref"] {
      guard case .string(let r) = ref else { throw .invalid("$ref must be a string", at: path) }
      return try resolve(r, path: path)
    }
    if let c = schema["const"] { return try checkedLiterals([Array(c.compactText.utf8)], path: path) }
    if let e = schema["enum"] {
      guard case .array(let values) = e, !values.isEmpty else { throw .invalid("enum must be a non-empty list", at: path) }
      return try checkedLiterals(values.map { Array($0.compactText.utf8) }, path: path)
    }
    for k in ["anyOf", "oneOf"] {
      guard let list = schema[k] else { continue }
      guard case .array(let alternatives) = list, !alternatives.isEmpty else {
        throw .invalid("\(k) must be a non-empty list", at: path)
      }
      var parts: [Int32] = []
      for (i, a) in alternatives.enumerated() { parts.append(try compile(a, path: "\(path)/\(k)/\(i)")) }
      return try union(parts, path: "\(path)/\(k)")
    }
    if let all = schema["allOf"] {
      guard case .array(let items) = all, items.count == 1 else {
        throw .unsupportedKeywords(["allOf (with more than one schema)"], at: path)
      }
      return try compile(items[0], path: "\(path)/allOf/0")
    }

    var types: [String] = []
    switch schema["type"] {
    case .string(let t)?: types = [t]
    case .array(let list)?:
      for t in list {
        guard case .string(let s) = t else { throw .invalid("type must be a string or list of strings", at: path) }
        types.append(s)
      }
    case nil:
      if schema["properties"] != nil || schema["additionalProperties"] != nil || schema["required"] != nil {
        types = ["object"]
      } else if schema["items"] != nil {
        types = ["array"]
      } else {
        return anyValue()
      }
    default: throw .invalid("type must be a string or list of strings", at: path)
    }
    var parts: [Int32] = []
    for t in types {
      switch t {
      case "object": parts.append(try compileObject(schema, path: path))
      case "array": parts.append(try compileArray(schema, path: path))
      case "string": parts.append(simple(.string))
      case "number": parts.append(simple(.number))
      case "integer": parts.append(simple(.integer))
      case "boolean": parts.append(literalsNode([Array("true".utf8), Array("false".utf8)]))
      case "null": parts.append(literalsNode([Array("null".utf8)]))
      default: throw .invalid("unknown type '\(t)'", at: path)
      }
    }
    guard !parts.isEmpty else { throw .invalid("empty type list", at: path) }
    return try union(parts, path: path)
  }

  /// `#/$defs/Name` and `#/definitions/Name`; a recursive reference reuses the node being built.
  private func resolve(_ ref: String, path: String) throws(JSONSchemaError) -> Int32 {
    if let n = refs[ref] { return n }
    let parts = ref.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    guard parts.count == 3, parts[0] == "#", parts[1] == "$defs" || parts[1] == "definitions",
      let target = document[parts[1]]?[parts[2]]
    else { throw .unsupportedKeywords(["$ref (\(ref))"], at: path) }
    // Reserve the node first so that the definition can refer to itself.
    let placeholder = add(Node(kind: .union))
    refs[ref] = placeholder
    inProgress.insert(placeholder)
    let compiled = try compile(target, path: ref)
    nodes[Int(placeholder)] = nodes[Int(compiled)]
    inProgress.remove(placeholder)
    return placeholder
  }

  /// Unions built around a recursive `$ref` saw its first bytes before they were known: recompute
  /// them to a fixed point, then check that alternatives stay distinguishable and none is empty.
  private func finishUnions() throws(JSONSchemaError) {
    var changed = true
    while changed {
      changed = false
      for i in nodes.indices where nodes[i].kind == .union {
        var f = nodes[i].first
        for k in 0..<Int(nodes[i].count) {
          let b = nodes[Int(branches[Int(nodes[i].start) + k])].first
          f = (f.0 | b.0, f.1 | b.1, f.2 | b.2, f.3 | b.3)
        }
        if f != nodes[i].first {
          nodes[i].first = f
          changed = true
        }
      }
    }
    for n in nodes where n.kind == .union {
      let f = n.first
      if f.0 | f.1 | f.2 | f.3 == 0 { throw .invalid("a $ref cycle that never produces a value", at: "#") }
      var seen: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
      for k in 0..<Int(n.count) {
        let b = nodes[Int(branches[Int(n.start) + k])].first
        if (seen.0 & b.0) | (seen.1 & b.1) | (seen.2 & b.2) | (seen.3 & b.3) != 0 {
          throw .unsupportedKeywords(["anyOf (alternatives that start with the same character)"], at: "#")
        }
        seen = (seen.0 | b.0, seen.1 | b.1, seen.2 | b.2, seen.3 | b.3)
      }
    }
  }

  private func compileObject(_ schema: JSONValue, path: String) throws(JSONSchemaError) -> Int32 {
    var properties: [(key: String, value: JSONValue)] = []
    if let p = schema["properties"] {
      guard case .object(let members) = p else { throw .invalid("properties must be an object", at: path) }
      properties = members
    }
    var required: [String] = []
    if let r = schema["required"] {
      guard case .array(let names) = r else { throw .invalid("required must be a list", at: path) }
      for n in names {
        guard case .string(let s) = n else { throw .invalid("required must list strings", at: path) }
        required.append(s)
      }
    }
    var additional: Int32 = -1
    switch schema["additionalProperties"] {
    case nil, .bool(true)?: additional = anyValue()
    case .bool(false)?: additional = -1
    case let s?: additional = try compile(s, path: "\(path)/additionalProperties")
    }
    for r in required where !properties.contains(where: { $0.key == r }) {
      guard additional >= 0 else {
        throw .invalid("required property '\(r)' is not allowed by properties/additionalProperties", at: path)
      }
      properties.append((r, .bool(true)))
    }
    guard properties.count <= 64 else { throw .unsupportedKeywords(["properties (more than 64)"], at: path) }
    // A name listed twice would match its first row only, and the second could never be used.
    guard Set(properties.map(\.key)).count == properties.count else {
      throw .invalid("properties lists a name twice", at: path)
    }
    guard properties.allSatisfy({ $0.key.utf8.count <= 1024 }) else {
      throw .unsupportedKeywords(["properties (a name longer than 1024 bytes)"], at: path)
    }

    // Property names as they appear between the quotes, sorted so that a prefix selects a range;
    // `rank` is the property's place in the schema, the order the output must follow.
    var entries: [(name: [UInt8], key: String, schema: JSONValue, rank: Int)] = properties.enumerated().map { i, p in
      var quoted = ""
      JSONValue.writeString(p.key, into: &quoted)
      return (Array(quoted.utf8.dropFirst().dropLast()), p.key, p.value, i)
    }
    entries.sort { $0.name.lexicographicallyPrecedes($1.name) }
    var valueNodes: [Int32] = []
    for e in entries { valueNodes.append(try compile(e.schema, path: "\(path)/properties/\(e.key)")) }

    var n = Node(kind: .object)
    n.addFirst(UInt8(ascii: "{"))
    n.start = Int32(self.keys.count)
    n.count = Int32(entries.count)
    n.child = additional
    for (i, e) in entries.enumerated() {
      self.keys.append(span(e.name))
      keyNodes.append(valueNodes[i])
      if required.contains(e.key) { n.required |= 1 << UInt64(i) }
      var before: UInt64 = 0
      for (j, other) in entries.enumerated() where other.rank < e.rank { before |= 1 << UInt64(j) }
      keyBefore.append(before)
    }
    return add(n)
  }

  private func compileArray(_ schema: JSONValue, path: String) throws(JSONSchemaError) -> Int32 {
    var n = Node(kind: .array)
    n.addFirst(UInt8(ascii: "["))
    n.child = try schema["items"].map { (s) throws(JSONSchemaError) in try compile(s, path: "\(path)/items") }
      ?? anyValue()
    func count(_ key: String) throws(JSONSchemaError) -> Int32? {
      guard let v = schema[key] else { return nil }
      guard case .number(let d) = v, d >= 0, d == d.rounded() else {
        throw .invalid("\(key) must be a non-negative integer", at: path)
      }
      return Int32(min(d, 65_535))
    }
    n.minimum = try count("minItems") ?? 0
    n.maximum = try count("maxItems") ?? Int32(UInt16.max)
    guard n.minimum <= n.maximum else { throw .invalid("minItems is greater than maxItems", at: path) }
    return add(n)
  }
}

extension JSONGrammar {
  /// The tables as raw pointers, so the per-step walk reads them without reference counting.
  struct Tables {
    var nodes: UnsafeMutablePointer<Node>
    var keys: UnsafeMutablePointer<Span>
    var keyNodes: UnsafeMutablePointer<Int32>
    var keyBefore: UnsafeMutablePointer<UInt64>
    var literals: UnsafeMutablePointer<Span>
    var branches: UnsafeMutablePointer<Int32>
    var bytes: UnsafeMutablePointer<UInt8>
    var root: Int32

    static func copy<T>(_ a: [T]) -> UnsafeMutablePointer<T> {
      let p = UnsafeMutablePointer<T>.allocate(capacity: max(1, a.count))
      _ = UnsafeMutableBufferPointer(start: p, count: a.count).initialize(from: a)
      return p
    }

    func free() {
      nodes.deallocate()
      keys.deallocate()
      keyNodes.deallocate()
      keyBefore.deallocate()
      literals.deallocate()
      branches.deallocate()
      bytes.deallocate()
    }
  }

  func makeTables() -> Tables {
    Tables(
      nodes: Tables.copy(nodes), keys: Tables.copy(keys), keyNodes: Tables.copy(keyNodes),
      keyBefore: Tables.copy(keyBefore), literals: Tables.copy(literals), branches: Tables.copy(branches), bytes: Tables.copy(bytes), root: root)
  }
}
