import Templates

/// A function a model may call, as the constraint needs it: its name and its parameters' JSON
/// Schema.
public struct ToolSchema: Sendable, Equatable {
  public var name: String
  /// JSON Schema of the arguments object; nil or `true` accepts any object.
  public var parameters: JSONValue?

  public init(name: String, parameters: JSONValue?) {
    self.name = name
    self.parameters = parameters
  }

  /// The schema of one call object, `{"name": <this name>, "arguments": <parameters>}`, both
  /// required and nothing else allowed.
  public var callSchema: JSONValue {
    var arguments = parameters ?? .object([("type", .string("object"))])
    if arguments == .bool(true) { arguments = .object([("type", .string("object"))]) }
    return .object([
      ("type", .string("object")),
      (
        "properties",
        .object([("name", .object([("const", .string(name))])), ("arguments", arguments)])
      ),
      ("required", .array([.string("name"), .string("arguments")])),
      ("additionalProperties", .bool(false)),
    ])
  }
}

/// Forces the output to be one tool call, `{"name": "…", "arguments": {…}}`, whose arguments match
/// the called function's parameter schema: OpenAI's `tool_choice: "required"` (any of `tools`) and
/// a named function (one tool).
///
/// Each tool compiles to its own `JSONConstraint` over the call object; they run side by side. A
/// token is allowed when some still-live alternative allows it, and feeding it drops the
/// alternatives that reject it, so the finished output matches at least one tool's call schema
/// (the `JSONGrammar` cannot express this as one `anyOf`, whose branches must differ in their
/// first byte). Alternatives die as soon as the name's bytes tell them apart, so after a few
/// tokens only one is masked per step.
public struct ToolCallConstraint: Sendable {
  private var live: [JSONConstraint]
  public let vocabulary: TokenTrie

  /// Throws when a tool's parameter schema cannot be enforced (unsupported keywords), naming the
  /// tool in the error path.
  /// Options default to strings of at most 64 tokens: a call's arguments are short, and a sampled
  /// string running to `max_tokens` would leave them unparsable.
  public init(tools: [ToolSchema], vocabulary: TokenTrie, options: JSONConstraintOptions = ToolCallConstraint.defaultOptions)
    throws(JSONSchemaError)
  {
    guard !tools.isEmpty else { throw .invalid("no tool to call", at: "tools") }
    var alternatives: [JSONConstraint] = []
    for tool in tools {
      do {
        alternatives.append(try JSONConstraint(schema: tool.callSchema, vocabulary: vocabulary, options: options))
      } catch {
        switch error {
        case .unsupportedKeywords(let k, let path):
          throw .unsupportedKeywords(k, at: "function '\(tool.name)' parameters " + path)
        case .invalid(let why, let path): throw .invalid(why, at: "function '\(tool.name)' parameters " + path)
        }
      }
    }
    live = alternatives
    self.vocabulary = vocabulary
  }

  public static let defaultOptions: JSONConstraintOptions = {
    var o = JSONConstraintOptions()
    o.maxStringTokens = 64
    return o
  }()

  /// How many tools the output so far can still be a call of.
  public var candidates: Int { live.count }

  /// The output is one finished call object.
  public var isComplete: Bool { live.contains { $0.isComplete } }

  /// Sets `mask[id]` for tokens some live alternative allows; returns how many.
  @discardableResult
  public func allowedTokens(into mask: UnsafeMutableBufferPointer<Bool>) -> Int {
    if live.count == 1 { return live[0].allowedTokens(into: mask) }
    mask.update(repeating: false)
    let one = UnsafeMutableBufferPointer<Bool>.allocate(capacity: mask.count)
    defer { one.deallocate() }
    for c in live {
      c.allowedTokens(into: one)
      for i in 0..<mask.count where one[i] { mask[i] = true }
    }
    return mask.reduce(0) { $0 + ($1 ? 1 : 0) }
  }

  /// Feeds a sampled token; alternatives that cannot take it are dropped. Throws (and changes
  /// nothing) when none can.
  public mutating func advance(token: Int32) throws(JSONConstraintError) {
    var next: [JSONConstraint] = []
    for var c in live where (try? c.advance(token: token)) != nil { next.append(c) }
    guard !next.isEmpty else { throw .tokenNotAllowed(token) }
    live = next
  }

  /// Feeds text that did not come from sampling (e.g. a forced prefix).
  public mutating func advance(bytes: [UInt8]) throws(JSONConstraintError) {
    var next: [JSONConstraint] = []
    for var c in live where (try? c.advance(bytes: bytes)) != nil { next.append(c) }
    guard !next.isEmpty else { throw .deadEnd }
    live = next
  }
}

extension ToolCallConstraint: TokenConstraint {
  public mutating func mask(_ logits: UnsafeMutableBufferPointer<Float>) {
    let n = min(logits.count, vocabulary.vocabularySize)
    let allowed = UnsafeMutableBufferPointer<Bool>.allocate(capacity: vocabulary.vocabularySize)
    defer { allowed.deallocate() }
    allowedTokens(into: allowed)
    for i in 0..<n where !allowed[i] { logits[i] = -.infinity }
    for i in n..<logits.count { logits[i] = -.infinity }
  }

  public mutating func advance(_ token: Int32) {
    try? advance(token: token)
  }
}
