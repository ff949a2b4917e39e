import Constraints
import Foundation
import Templates
import TestSupport
import Testing

@Suite struct ToolCallConstraintTests {
  /// Single bytes plus whole pieces of the call objects, so walks can finish in few steps.
  static let tokens: [[UInt8]] = {
    var t: [[UInt8]] = (0x20...0x7E).map { [UInt8($0)] }
    for s in [
      "{\"name\": \"", "get_weather", "get_time", "search", "\", \"arguments\": ", "{\"", "\": ", "\"}", "}", "city", "unit",
      "zone", "query", "limit", "celsius", "fahrenheit", "\"celsius\"", "12", "Paris", "\"name\"", "\"arguments\"", "\n",
    ] {
      t.append(Array(s.utf8))
    }
    return t
  }()
  static var eos: Int32 { Int32(tokens.count) }
  static let trie = TokenTrie(tokenBytes: tokens + [[]], endOfGeneration: [Int32(tokens.count)])

  static let weather = ToolSchema(
    name: "get_weather",
    parameters: try! JSONValue(
      parsing: #"{"type":"object","properties":{"city":{"type":"string"},"unit":{"enum":["celsius","fahrenheit"]}},"required":["city","unit"],"additionalProperties":false}"#
    ))
  static let time = ToolSchema(
    name: "get_time",
    parameters: try! JSONValue(
      parsing: #"{"type":"object","properties":{"zone":{"type":"string"}},"required":["zone"],"additionalProperties":false}"#))
  static let search = ToolSchema(
    name: "search",
    parameters: try! JSONValue(
      parsing: #"{"type":"object","properties":{"query":{"type":"string"},"limit":{"type":"integer"}},"required":["query"],"additionalProperties":false}"#))

  func token(_ s: String) -> Int32 { Int32(Self.tokens.firstIndex(of: Array(s.utf8))!) }

  /// Random walks under `required` with three tools (two share the prefix `get_`): every finished
  /// output is a call of one tool whose arguments match that tool's schema, not another's.
  @Test func randomWalksEndInAValidCallOfOneTool() throws {
    let tools = [Self.weather, Self.time, Self.search]
    var rng = SplitMix64(seed: 7)
    var seen: Set<String> = []
    let closers = ["\"", "}", "\"celsius\"", "12", ":", ",", "\"arguments\"", "\"name\""].map(token)
    for walk in 0..<150 {
      var c = try ToolCallConstraint(tools: tools, vocabulary: Self.trie)
      var bytes: [UInt8] = []
      var steps = 0
      while !c.isComplete {
        var mask = [Bool](repeating: false, count: Self.trie.vocabularySize)
        let allowed = mask.withUnsafeMutableBufferPointer { c.allowedTokens(into: $0) }
        try #require(allowed > 0, "dead end after \(String(decoding: bytes, as: UTF8.self))")
        let ids = mask.indices.filter { mask[$0] }.map(Int32.init)
        var pick = ids[Int(rng.next() % UInt64(ids.count))]
        if steps > 30 + walk % 20, let k = closers.first(where: { mask[Int($0)] }) { pick = k }
        if pick == Self.eos { break }
        try c.advance(token: pick)
        bytes += Self.tokens[Int(pick)]
        steps += 1
        try #require(steps < 3000, "walk did not end: \(String(decoding: bytes, as: UTF8.self))")
      }
      let text = String(decoding: bytes, as: UTF8.self)
      let value = try JSONValue(parsing: text)
      let name = try #require(value["name"]?.stringValue, "\(text)")
      let tool = try #require(tools.first { $0.name == name }, "\(text)")
      let arguments = try #require(value["arguments"], "\(text)")
      #expect(validates(arguments, tool.parameters!, root: tool.parameters!), "\(text)")
      #expect(validates(value, tool.callSchema, root: tool.callSchema), "\(text)")
      seen.insert(name)
    }
    // The walks reached every tool: the union really offers each alternative.
    #expect(seen == ["get_weather", "get_time", "search"])
  }

  @Test func aNamedFunctionAllowsOnlyItsName() throws {
    var c = try ToolCallConstraint(tools: [Self.time], vocabulary: Self.trie)
    try c.advance(token: token("{\"name\": \""))
    var probe = c
    #expect(throws: JSONConstraintError.self) { try probe.advance(token: token("get_weather")) }
    try c.advance(token: token("get_time"))
    #expect(c.candidates == 1)
  }

  /// After the name picks a tool, only that tool's parameters are allowed: `unit` belongs to
  /// get_weather, not get_time.
  @Test func argumentsFollowTheChosenToolOnly() throws {
    var c = try ToolCallConstraint(tools: [Self.weather, Self.time], vocabulary: Self.trie)
    try c.advance(bytes: Array(#"{"name": "get_t"#.utf8))
    #expect(c.candidates == 1)
    try c.advance(bytes: Array(#"ime", "arguments": {""#.utf8))
    var probe = c
    #expect(throws: JSONConstraintError.self) { try probe.advance(token: token("unit")) }
    try c.advance(token: token("zone"))
    // The name comes first, as the call schema lists it: arguments before it are refused.
    var late = try ToolCallConstraint(tools: [Self.weather, Self.time], vocabulary: Self.trie)
    #expect(throws: JSONConstraintError.self) { try late.advance(bytes: Array(#"{"arguments""#.utf8)) }
  }

  /// Past `maxStringTokens` inside a string only tokens that close it are allowed, and the mask
  /// agrees with `advance` there.
  @Test func longStringsAreClosed() throws {
    var options = JSONConstraintOptions()
    options.maxStringTokens = 3
    var c = try JSONConstraint(
      schema: JSONValue(parsing: #"{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}"#),
      vocabulary: Self.trie, options: options)
    // The feed that opens the string is its first token.
    try c.advance(bytes: Array(#"{"city": ""#.utf8))
    try c.advance(token: token("Paris"))
    var mask = c.allowedTokens()
    #expect(mask[Int(token("Paris"))])  // the third string token may still be content
    try c.advance(token: token("Paris"))
    mask = c.allowedTokens()
    let allowed = mask.indices.filter { mask[$0] }.map { String(decoding: Self.tokens[$0], as: UTF8.self) }
    #expect(!allowed.isEmpty)
    #expect(allowed.allSatisfy { $0.contains("\"") }, "\(allowed)")
    for id in 0..<Int32(Self.trie.vocabularySize) {
      var copy = c
      #expect(((try? copy.advance(token: id)) != nil) == mask[Int(id)], "\(id)")
    }
    try c.advance(token: token("\"}"))
    #expect(c.isComplete)
    // A second string starts its own count.
    var again = try ToolCallConstraint(tools: [Self.time], vocabulary: Self.trie, options: options)
    try again.advance(bytes: Array(#"{"name": "get_time", "arguments": {"zone": ""#.utf8))
    for piece in ["U", "T"] { try again.advance(token: token(piece)) }
    var probe = again
    #expect(throws: JSONConstraintError.self) { try probe.advance(token: token("U")) }
  }

  @Test func unsupportedParameterSchemasNameTheTool() {
    let bad = ToolSchema(name: "f", parameters: .object([("type", .string("object")), ("patternProperties", .object([]))]))
    do {
      _ = try ToolCallConstraint(tools: [Self.time, bad], vocabulary: Self.trie)
      Issue.record("an unsupported keyword compiled")
    } catch {
      #expect("\(error)".contains("function 'f'"), "\(error)")
    }
  }

  @Test func engineInterfaceMasksAndEnds() throws {
    var c: any TokenConstraint = try ToolCallConstraint(tools: [Self.time], vocabulary: Self.trie)
    var logits = [Float](repeating: 0, count: Self.trie.vocabularySize)
    logits.withUnsafeMutableBufferPointer { c.mask($0) }
    let allowed = logits.indices.filter { logits[$0] > -.infinity }.map { String(decoding: Self.tokens[$0], as: UTF8.self) }
    #expect(Set(allowed).isSubset(of: ["{", "{\"name\": \"", "{\"", " ", "\n"]))
    #expect(allowed.contains("{"))
    for piece in ["{\"name\": \"", "get_time", "\", \"arguments\": ", "{\"", "zone", "\": ", "\"", "U", "\"}", "}"] {
      c.advance(token(piece))
    }
    #expect(c.isComplete)
  }
}

@Suite struct ThinkingBudgetTests {
  static let tokens: [[UInt8]] = ["<think>", "</think>", "\n", "a", "b", "</", "think", ">", "answer"].map { Array($0.utf8) }
  static let trie = TokenTrie(tokenBytes: tokens + [[]], endOfGeneration: [Int32(tokens.count)])
  func id(_ s: String) -> Int32 { Int32(Self.tokens.firstIndex(of: Array(s.utf8))!) }
  func allowed(_ b: ThinkingBudget) -> [Int32] {
    var c = b
    var logits = [Float](repeating: 1, count: Self.trie.vocabularySize)
    logits.withUnsafeMutableBufferPointer { c.mask($0) }
    return logits.indices.filter { logits[$0] > -.infinity }.map(Int32.init)
  }

  @Test func theBudgetForcesTheClosingTokensThenFreesTheOutput() {
    let closing = [id("\n"), id("</think>"), id("\n")]
    var b = ThinkingBudget(budget: 3, vocabulary: Self.trie, closing: closing, startsThinking: false)
    b.advance(token: id("<think>"))
    #expect(b.isThinking)
    for t in ["a", "b"] {
      #expect(allowed(b).count == Self.trie.vocabularySize)
      b.advance(token: id(t))
    }
    b.advance(token: id("a"))  // the third thinking token spends the budget
    for t in closing {
      #expect(allowed(b) == [t])
      b.advance(token: t)
    }
    #expect(!b.isThinking && !b.isForcing)
    #expect(allowed(b).count == Self.trie.vocabularySize)
  }

  @Test func aCloseSpelledInPiecesEndsThinkingBeforeTheBudget() {
    var b = ThinkingBudget(budget: 5, vocabulary: Self.trie, closing: [id("</think>")], startsThinking: true)
    for t in ["a", "</", "think", ">"] { b.advance(token: id(t)) }
    #expect(!b.isThinking)
    for t in ["a", "b", "a", "b"] { b.advance(token: id(t)) }
    #expect(!b.isForcing)
  }

  @Test func aZeroBudgetClosesAtOnceWhenThePromptOpenedThinking() {
    let b = ThinkingBudget(budget: 0, vocabulary: Self.trie, closing: [id("</think>")], startsThinking: true)
    #expect(allowed(b) == [id("</think>")])
    let outside = ThinkingBudget(budget: 0, vocabulary: Self.trie, closing: [id("</think>")], startsThinking: false)
    #expect(allowed(outside).count == Self.trie.vocabularySize)
  }
}
