import Constraints
import Templates
import Foundation
import TestSupport
import Testing
import Tokenizers

@Suite struct JSONConstraintTests {
  /// Every printable ASCII byte, JSON-ish multi-byte tokens, UTF-8 pieces, and an end token.
  static let tokens: [[UInt8]] = {
    var t: [[UInt8]] = (0x20...0x7E).map { [UInt8($0)] }
    for s in [
      "{\"", "\":", "\",", "\": \"", "true", "false", "null", "12", ".5", "e-3", "}", "]}", "}]", " \"", "\n  ", "\\n",
      "\\u00e9", "\\ud83d", "name", "age", "\"name\"", "\"age\":", "tags", "red", "green", "\"red\"", "é", "日本", "  ",
      "\n", "\t", "\"}", "0,", "[]", "{}", "-0", "1e5", "\"a\\\"b\"", "\"kind\"", "e+123",
    ] {
      t.append(Array(s.utf8))
    }
    t += [[0xC3], [0xA9], [0xE6, 0x97], [0xA5], [0xED, 0xA0, 0x80], [0xFF], [0x00], []]
    // Whole quoted property names of the random schemas below.
    for name in keyNames { t.append(Array(name.utf8)) }
    return t
  }()
  static let keyNames = ["a", "ab", "b", "name\\\"q", "é"].flatMap { p in (0..<4).map { "\"\(p)\($0)\"" } }
  static var eos: Int32 { Int32(tokens.count) }
  static let trie = TokenTrie(tokenBytes: tokens + [[]], endOfGeneration: [Int32(tokens.count)])

  static let personSchema = SchemaFixtures.person

  static let schemas: [String?] = [
    nil, personSchema,
    #"{"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 4}"#,
    #"{"type": "integer"}"#, #"{"enum": [1, 12, 123, "x"]}"#,
    #"{"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "array"}}}}}"#,
    #"{"anyOf": [{"type": "string"}, {"type": "object", "additionalProperties": {"type": "boolean"}}]}"#,
    // A linked list through a recursive reference inside anyOf.
    ##"{"$defs": {"N": {"type": "object", "properties": {"v": {"type": "integer"}, "next": {"anyOf": [{"$ref": "#/$defs/N"}, {"type": "null"}]}}, "required": ["v", "next"], "additionalProperties": false}}, "$ref": "#/$defs/N"}"##,
  ]

  func constraint(_ schema: String?, _ options: JSONConstraintOptions = JSONConstraintOptions()) throws -> JSONConstraint {
    try JSONConstraint(schema: schema.map { try JSONValue(parsing: $0) }, vocabulary: Self.trie, options: options)
  }

  /// Random walks over allowed tokens; once long enough, prefer tokens that close things.
  @Test func randomWalksProduceValidDocuments() throws {
    var rng = SplitMix64(seed: 42)
    let closers = ["\"kind\"", "\"name\"", "\"age\":", "\"", "}", "]", ":", "0", "n", "1", "r", "e", "d"].map { s in
      Int32(Self.tokens.firstIndex(of: Array(s.utf8))!)
    }
    for (schemaIndex, schema) in Self.schemas.enumerated() {
      let schemaValue = try schema.map { try JSONValue(parsing: $0) } ?? .object([("type", .string("object"))])
      for walk in 0..<60 {
        var c = try constraint(schema)
        var bytes: [UInt8] = []
        var steps = 0
        while true {
          let mask = c.allowedTokens()
          let allowed = mask.indices.filter { mask[$0] }.map(Int32.init)
          try #require(!allowed.isEmpty, "dead end after \(String(decoding: bytes, as: UTF8.self))")
          var pick = allowed[Int(rng.next() % UInt64(allowed.count))]
          if steps > 40 + walk {
            if mask[Int(Self.eos)] { pick = Self.eos } else if let k = closers.first(where: { mask[Int($0)] }) { pick = k }
          }
          if pick == Self.eos { break }
          try c.advance(token: pick)
          bytes += Self.tokens[Int(pick)]
          steps += 1
          try #require(steps < 2000, "walk did not end: \(String(decoding: bytes, as: UTF8.self))")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(c.canEnd)
        let parsed = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        #expect(parsed != nil, "schema \(schemaIndex): \(text)")
        let value = try JSONValue(parsing: text)
        #expect(validates(value, schemaValue, root: schemaValue), "schema \(schemaIndex): \(text)")
      }
    }
  }

  /// Random schemas: each compiles or fails with a typed error, and walks under the compiled ones
  /// end in documents that validate.
  @Test func randomSchemasCompileAndWalkValidly() throws {
    var rng = SplitMix64(seed: 99)
    func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }
    func schema(_ depth: Int) -> JSONValue {
      let kind = depth > 2 ? pick(["string", "number", "integer", "boolean", "null", "enum"]) :
        pick(["object", "object", "array", "string", "number", "integer", "boolean", "null", "enum", "anyOf", "any"])
      switch kind {
      case "object":
        var props: [(key: String, value: JSONValue)] = []
        for i in 0..<Int(rng.next() % 4) { props.append((pick(["a", "ab", "b", "name\"q", "é"]) + String(i), schema(depth + 1))) }
        var members: [(key: String, value: JSONValue)] = [("type", .string("object")), ("properties", .object(props))]
        let required = props.filter { _ in rng.next() % 2 == 0 }.map { JSONValue.string($0.key) }
        members.append(("required", .array(required)))
        if rng.next() % 2 == 0 { members.append(("additionalProperties", .bool(false))) }
        return .object(members)
      case "array":
        var members: [(key: String, value: JSONValue)] = [("type", .string("array")), ("items", schema(depth + 1))]
        if rng.next() % 2 == 0 { members.append(("maxItems", .number(Double(1 + rng.next() % 3)))) }
        if rng.next() % 3 == 0 { members.append(("minItems", .number(1))) }
        return .object(members)
      case "enum": return .object([("enum", .array([.string("x"), .number(3), .null, .bool(true), .array([.number(1)])]))])
      case "anyOf": return .object([("anyOf", .array([schema(depth + 1), schema(depth + 1)]))])
      case "any": return .object([])
      default: return .object([("type", .string(kind))])
      }
    }
    var compiled = 0
    for _ in 0..<150 {
      let s = schema(0)
      guard var c = try? JSONConstraint(schema: s, vocabulary: Self.trie) else {
        #expect(throws: JSONSchemaError.self) { try JSONConstraint(schema: s, vocabulary: Self.trie) }
        continue
      }
      compiled += 1
      var bytes: [UInt8] = []
      func ids(_ texts: [String]) -> [Int32] { texts.map { t in Int32(Self.tokens.firstIndex(of: Array(t.utf8))!) } }
      let closers = ids(["}", "]"])
      let keys = ids(Self.keyNames)
      let openers = ids(["0", "n", "\"", ":", "1", "x", "a", "b"])
      let (quote, colon, brace, letter) = (ids(["\""])[0], ids([":"])[0], ids(["}"])[0], ids(["x"])[0])
      for step in 0..<3000 {
        let mask = c.allowedTokens()
        let allowed = mask.indices.filter { mask[$0] }.map(Int32.init)
        try #require(!allowed.isEmpty, "dead end: \(s.compactText) after \(String(decoding: bytes, as: UTF8.self))")
        var token = allowed[Int(rng.next() % UInt64(allowed.count))]
        if step > 30 {
          // Finish: end, close, name a property (randomly, so required ones come up), or the
          // shortest way forward.
          let allowedKeys = keys.filter { mask[Int($0)] }
          // Only inside a string are a colon, a brace and a letter all allowed.
          let inString = mask[Int(colon)] && mask[Int(brace)] && mask[Int(letter)]
          if inString {
            token = quote
          } else if mask[Int(Self.eos)] {
            token = Self.eos
          } else if let k = closers.first(where: { mask[Int($0)] }) {
            token = k
          } else if !allowedKeys.isEmpty {
            token = allowedKeys[Int(rng.next() % UInt64(allowedKeys.count))]
          } else if let k = openers.first(where: { mask[Int($0)] }) {
            token = k
          }
        }
        if token == Self.eos { break }
        try c.advance(token: token)
        bytes += Self.tokens[Int(token)]
      }
      let text = String(decoding: bytes, as: UTF8.self)
      #expect(c.canEnd, "\(s.compactText): \(text)")
      let value = try? JSONValue(parsing: text)
      #expect(value.map { validates($0, s, root: s) } == true, "\(s.compactText): \(text)")
    }
    #expect(compiled > 50)
  }

  /// The trie walk is checked against stepping every token on its own (the reference twin).
  @Test func maskEqualsPerTokenAdvance() throws {
    var rng = SplitMix64(seed: 7)
    for schema in Self.schemas {
      var c = try constraint(schema)
      for _ in 0..<25 {
        let mask = c.allowedTokens()
        for id in 0..<Int32(Self.tokens.count + 1) {
          var copy = c
          let ok = (try? copy.advance(token: id)) != nil
          #expect(ok == mask[Int(id)], "token \(id) \(Self.tokens.indices.contains(Int(id)) ? Self.tokens[Int(id)] : [])")
        }
        let allowed = mask.indices.filter { mask[$0] && $0 != Int(Self.eos) }
        if allowed.isEmpty { break }
        try c.advance(token: Int32(allowed[Int(rng.next() % UInt64(allowed.count))]))
      }
    }
  }

  func allows(_ c: JSONConstraint, _ text: String) -> Bool {
    var copy = c
    return (try? copy.advance(bytes: Array(text.utf8))) != nil
  }

  @Test func invalidContinuationsAreMasked() throws {
    var c = try constraint(nil)
    #expect(!c.canEnd)
    #expect(!allows(c, "[") && !allows(c, "1") && !allows(c, "\"x\"") && allows(c, " {"))
    try c.advance(bytes: Array("{".utf8))
    #expect(allows(c, "}") && allows(c, "\"k\": [1, {\"z\": null}]}") && !allows(c, "]") && !allows(c, "1"))
    #expect(!allows(c, "\"a\": 01") && !allows(c, "\"a\": 1.}") && !allows(c, "\"a\": tru}") && !allows(c, "\"\u{01}\""))
    #expect(!allows(c, "\"\\x\"") && !allows(c, "\"\\ud800\"") && allows(c, "\"\\u00e9\\n\""))

    let schema = #"{"type":"object","properties":{"a":{"type":"integer"},"ab":{"type":"string"}},"required":["a"],"additionalProperties":false}"#
    var s = try constraint(schema)
    try s.advance(bytes: Array("{\"a\":".utf8))
    #expect(allows(s, "1") && allows(s, " -12") && !allows(s, "\"") && !allows(s, "1.5") && !allows(s, "1e3") && !allows(s, "}"))
    try s.advance(bytes: Array("1".utf8))
    #expect(allows(s, "}") && allows(s, ",\"ab\"") && !allows(s, ",\"a\"") && !allows(s, ",\"b") && !allows(s, ",\"abc"))
    #expect(!s.canEnd)
    try s.advance(bytes: Array(",\"ab\":\"x\"".utf8))
    #expect(!allows(s, ",") && allows(s, "}"))
    try s.advance(bytes: Array("}".utf8))
    #expect(s.isComplete && s.canEnd && !allows(s, " ") && !allows(s, "\n"))
    let mask = s.allowedTokens()
    #expect(mask.indices.filter { mask[$0] } == [Int(Self.eos)])

    #expect(!allows(try constraint(schema), "{\"ab\":\"x\""))  // skips the required "a"
    let later = #"{"type":"object","properties":{"ab":{"type":"string"},"a":{"type":"integer"}},"required":["a"],"additionalProperties":false}"#
    var missing = try constraint(later)
    try missing.advance(bytes: Array("{\"ab\":\"x\"".utf8))
    #expect(!allows(missing, "}") && allows(missing, ",\"a\":2}"))
    #expect(throws: JSONConstraintError.self) { try missing.advance(token: Self.eos) }
  }

  /// Properties come in the schema's order (OpenAI's strict mode, llama.cpp's schema grammars):
  /// optional ones may be left out but not reordered, a required one may not be skipped, and
  /// additional properties come after the declared and required ones.
  @Test func propertiesFollowTheSchemasOrder() throws {
    let schema = #"{"type":"object","properties":{"b":{"type":"integer"},"a":{"type":"integer"},"c":{"type":"integer"}},"required":["a"]}"#
    let c = try constraint(schema)
    #expect(allows(c, #"{"b": 1, "a": 2, "c": 3}"#) && allows(c, #"{"a": 2}"#) && allows(c, #"{"b": 1, "a": 2}"#))
    #expect(!allows(c, #"{"a": 2, "b""#) && !allows(c, #"{"c""#) && !allows(c, #"{"b": 1, "c""#))
    #expect(!allows(c, #"{"b": 1, "b""#))
    // Additional properties after the required "a", and nothing declared after them.
    #expect(allows(c, #"{"a": 2, "x": true, "y": [1]}"#) && allows(c, #"{"a": 2, "c": 3, "x": 1}"#))
    #expect(!allows(c, #"{"x""#) && !allows(c, #"{"b": 1, "x""#) && !allows(c, #"{"a": 2, "x": 1, "c""#))
    // A name is cut off as soon as it cannot lead to a property that may come next.
    #expect(!allows(c, #"{"q"#) && allows(c, #"{"a"#))
    // The oracle agrees.
    let s = try JSONValue(parsing: schema)
    #expect(validates(try JSONValue(parsing: #"{"b": 1, "a": 2, "x": 0}"#), s, root: s))
    #expect(!validates(try JSONValue(parsing: #"{"a": 2, "b": 1}"#), s, root: s))
    #expect(!validates(try JSONValue(parsing: #"{"x": 0, "a": 2}"#), s, root: s))
    #expect(!validates(try JSONValue(parsing: #"{"a": 2, "x": 0, "c": 1}"#), s, root: s))
  }

  @Test func conformsToTheEnginesTokenConstraint() throws {
    var c: any TokenConstraint = try constraint(#"{"type": "boolean"}"#)
    var logits = [Float](repeating: 0, count: Self.trie.vocabularySize)
    logits.withUnsafeMutableBufferPointer { c.mask($0) }
    let allowed = logits.indices.filter { logits[$0] > -.infinity }.map { Self.tokens[$0] }
    #expect(Set(allowed) == [Array("t".utf8), Array("f".utf8), Array("true".utf8), Array("false".utf8), Array(" ".utf8), Array("  ".utf8), Array("\n".utf8), Array("\n  ".utf8), Array("\t".utf8)])
    c.advance(Int32(Self.tokens.firstIndex(of: Array("true".utf8))!))
    #expect(c.isComplete)
  }

  @Test func whitespaceRunsAreCapped() throws {
    var options = JSONConstraintOptions()
    options.maxWhitespaceRun = 4
    var c = try constraint(nil, options)
    try c.advance(bytes: Array("{".utf8))
    #expect(allows(c, "    }") && !allows(c, "     }") && allows(c, "\n  \t\"a\" \n:  1 }"))
    #expect(allows(c, "\"a b      c\":1}"))  // whitespace inside strings is content
  }

  @Test func rootScalarsEndWhereTheyMay() throws {
    var c = try constraint(#"{"enum": [1, 12, 123, "x"]}"#)
    try c.advance(bytes: Array("12".utf8))
    #expect(c.canEnd && !c.isComplete && allows(c, "3") && !allows(c, "4"))
    var n = try constraint(#"{"type": "number"}"#)
    try n.advance(bytes: Array("-0.5e".utf8))
    #expect(!n.canEnd)
    try n.advance(bytes: Array("+3".utf8))
    #expect(n.canEnd)
  }

  @Test func recursiveReferencesNest() throws {
    var c = try constraint(Self.schemas.last!)
    try c.advance(bytes: Array(#"{"v": 1, "next": {"v": 2, "next": null}}"#.utf8))
    #expect(c.isComplete)
  }

  @Test func deepNestingIsBoundedWithoutDeadEnds() throws {
    var options = JSONConstraintOptions()
    options.maxNestingDepth = 3
    var c = try constraint(nil, options)
    try c.advance(bytes: Array("{\"a\":[{\"b\":".utf8))
    #expect(!allows(c, "[") && !allows(c, "{") && allows(c, "\"s\"") && allows(c, "1"))
  }

  @Test func unsupportedSchemasAreTypedErrors() throws {
    func error(_ s: String) -> JSONSchemaError? {
      do {
        _ = try constraint(s)
        return nil
      } catch let e as JSONSchemaError {
        return e
      } catch {
        return nil
      }
    }
    #expect(error(#"{"type":"object","properties":{"x":{"type":"string","pattern":"a+"}}}"#)
      == .unsupportedKeywords(["pattern"], at: "#/properties/x"))
    #expect(error(#"{"type":"number","minimum":0,"maximum":3}"#) == .unsupportedKeywords(["minimum", "maximum"], at: "#"))
    #expect(error(#"{"anyOf":[{"type":"object"},{"type":"object","properties":{"a":{}}}]}"#) != nil)
    #expect(error(#"{"type":"strin"}"#) != nil)
    #expect(error(#"false"#) != nil)
    #expect(error(#"{"$ref":"http://example.com/x"}"#) != nil)
    #expect(error(#"{"type":"object","required":["x"],"additionalProperties":false}"#) != nil)
    #expect(error(#"{"enum":[]}"#) != nil)
    #expect(error(##"{"$defs":{"A":{"$ref":"#/$defs/A"}},"$ref":"#/$defs/A"}"##) != nil)
    #expect(error(##"{"$defs":{"A":{"anyOf":[{"type":"string"},{"$ref":"#/$defs/A"}]}},"$ref":"#/$defs/A"}"##) != nil)
    #expect(error(#"{"const":"# + "\"" + String(repeating: "x", count: 5000) + "\"}") != nil)
    #expect(error(#"{"type":"array","minItems":3,"maxItems":2}"#) != nil)
    // A parsed document keeps one member per name; a built one can repeat a property.
    let repeated = JSONValue.object([
      ("type", .string("object")), ("properties", .object([("a", .object([])), ("b", .object([])), ("a", .object([]))])),
    ])
    #expect(throws: JSONSchemaError.self) { try JSONConstraint(schema: repeated, vocabulary: Self.trie) }
    // Annotations are fine.
    #expect(error(#"{"type":"string","title":"T","description":"d","format":"date-time","default":"x"}"#) == nil)

    #expect(try JSONConstraint(responseFormat: try JSONValue(parsing: #"{"type":"text"}"#), vocabulary: Self.trie) == nil)
    #expect(throws: JSONSchemaError.self) {
      try JSONConstraint(responseFormat: try JSONValue(parsing: #"{"type":"yaml"}"#), vocabulary: Self.trie)
    }
    let format = try JSONValue(parsing: #"{"type":"json_schema","json_schema":{"name":"p","schema":{"type":"integer"}}}"#)
    var c = try #require(try JSONConstraint(responseFormat: format, vocabulary: Self.trie))
    try c.advance(bytes: Array("42".utf8))
    #expect(c.canEnd)
  }
}
