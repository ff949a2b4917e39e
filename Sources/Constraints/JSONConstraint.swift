import Templates
/// Why a token could not be fed to a constraint.
public enum JSONConstraintError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The token would make the output invalid (the sampler picked a masked token).
  case tokenNotAllowed(Int32)
  /// No token can continue the output (only possible with recursive schemas at the depth limit).
  case deadEnd

  public var description: String {
    switch self {
    case .tokenNotAllowed(let id): "token \(id) is not allowed by the response format"
    case .deadEnd: "no token can continue the constrained output"
    }
  }
}

/// Tunables of a JSON constraint.
public struct JSONConstraintOptions: Sendable, Equatable {
  /// Longest run of whitespace between JSON tokens; stops a model idling on spaces and newlines.
  public var maxWhitespaceRun = 16
  /// Deepest nesting of arrays and objects; deeper containers are masked, scalars still allowed.
  public var maxNestingDepth = 32
  /// Longest number, in characters.
  public var maxNumberLength = 24
  /// Tokens one string (or free object key) may take; past it only tokens that close the string
  /// are allowed, so a sampled output cannot ramble inside a string until `max_tokens` cuts it
  /// unparsable. Nil: unbounded (`response_format`'s behaviour).
  public var maxStringTokens: Int? = nil

  public init() {}
}

/// Constrained decoding for `response_format` `json_object` and `json_schema`: which tokens keep
/// the output a valid prefix of a JSON document that matches the schema.
///
/// A plain value: copy it to fork, store it beside the sampler. Per step call `mask(logits:)`
/// (or `allowedTokens(into:)`), sample, then `advance(token:)`. End-of-generation tokens are
/// allowed only once the document is complete; `isComplete` says nothing more may follow.
///
/// ```swift
/// let trie = TokenTrie(tokenizer: tokenizer)            // once per tokenizer
/// var c = try JSONConstraint(responseFormat: format, vocabulary: trie)!
/// c.mask(logits: &row); let id = sampler.sample(row); try c.advance(token: id)
/// ```
public struct JSONConstraint: Sendable {
  public let vocabulary: TokenTrie
  public let options: JSONConstraintOptions
  private let grammar: JSONGrammar
  private var frames: [JSONAutomaton.Frame]
  private var whitespace = 0
  /// Tokens fed since the string the output is inside began (0 outside strings).
  private var stringTokens = 0

  /// Any JSON object (`{"type": "json_object"}`), or values matching `schema` when given.
  public init(schema: JSONValue?, vocabulary: TokenTrie, options: JSONConstraintOptions = JSONConstraintOptions())
    throws(JSONSchemaError)
  {
    grammar = try schema.map { (s) throws(JSONSchemaError) in try JSONGrammar(schema: s) } ?? JSONGrammar.anyObject()
    self.vocabulary = vocabulary
    self.options = options
    frames = [JSONAutomaton.Frame(kind: .document)]
  }

  /// Reads an OpenAI `response_format`: `{"type":"text"}` gives nil (no constraint),
  /// `{"type":"json_object"}` any object, `{"type":"json_schema","json_schema":{"schema":…}}` the
  /// schema (a missing schema means any JSON value).
  public init?(responseFormat: JSONValue, vocabulary: TokenTrie, options: JSONConstraintOptions = JSONConstraintOptions())
    throws(JSONSchemaError)
  {
    switch responseFormat["type"]?.stringValue {
    case "text"?: return nil
    case "json_object"?: try self.init(schema: nil, vocabulary: vocabulary, options: options)
    case "json_schema"?:
      guard let spec = responseFormat["json_schema"], case .object = spec else {
        throw .invalid("json_schema must be an object with a 'schema'", at: "response_format")
      }
      try self.init(schema: spec["schema"] ?? .bool(true), vocabulary: vocabulary, options: options)
    default:
      throw .invalid("type must be 'text', 'json_object' or 'json_schema'", at: "response_format")
    }
  }

  private var limits: JSONAutomaton.Limits {
    // One frame per container, plus the document and the innermost key or scalar.
    JSONAutomaton.Limits(
      maxDepth: max(1, options.maxNestingDepth) + 2, maxWhitespace: options.maxWhitespaceRun,
      maxNumberLength: options.maxNumberLength)
  }

  /// Whether the output may end now (end-of-generation tokens are allowed).
  public var canEnd: Bool {
    var f = frames
    return f.withUnsafeMutableBufferPointer { JSONAutomaton.canEnd(grammar.tables!, $0.baseAddress!, $0.count) }
  }

  /// The document is finished: nothing but end-of-generation may follow, so a caller can stop.
  public var isComplete: Bool { frames.count == 1 && frames[0].phase == 2 }

  /// Feeds a sampled token. End-of-generation tokens are accepted where the output may end.
  public mutating func advance(token: Int32) throws(JSONConstraintError) {
    if vocabulary.endOfGeneration.contains(token) {
      guard canEnd else { throw .tokenNotAllowed(token) }
      return
    }
    guard token >= 0, Int(token) < vocabulary.vocabularySize else { throw .tokenNotAllowed(token) }
    try advance(bytes: tokenBytes(token), token: token)
  }

  /// Feeds raw output bytes (text that did not come from the vocabulary, e.g. a forced prefix).
  public mutating func advance(bytes: [UInt8]) throws(JSONConstraintError) {
    if !bytes.isEmpty { try advance(bytes: bytes, token: -1) }
  }

  private mutating func advance(bytes: [UInt8], token: Int32) throws(JSONConstraintError) {
    guard !bytes.isEmpty else { throw .tokenNotAllowed(token) }
    let limits = self.limits
    let tables = grammar.tables!
    let start = frames.count
    let wasInString = inString
    let limited = atStringLimit
    var depth = start
    var lowest = start
    var ws = whitespace
    var scratch = frames + [JSONAutomaton.Frame](repeating: JSONAutomaton.Frame(kind: .document), count: limits.maxDepth)
    let ok = scratch.withUnsafeMutableBufferPointer { f in
      for b in bytes {
        if !JSONAutomaton.step(tables, f.baseAddress!, &depth, &ws, b, limits) { return false }
        lowest = min(lowest, depth)
      }
      return true
    }
    // The string's frame was popped: it closed within this token.
    let closed = lowest < start
    guard ok, !limited || closed else { throw .tokenNotAllowed(token) }
    frames = Array(scratch[..<depth])
    whitespace = ws
    if inString {
      stringTokens = wasInString && !closed ? stringTokens + 1 : 1
    } else {
      stringTokens = 0
    }
  }

  /// Inside a string value or a free object key (where any content is allowed).
  private var inString: Bool {
    guard let top = frames.last else { return false }
    return top.kind == .string || (top.kind == .key && isFreeKey())
  }

  /// The current string has used up `maxStringTokens`: it must close now.
  private var atStringLimit: Bool {
    guard let limit = options.maxStringTokens else { return false }
    return stringTokens >= limit && inString
  }

  private func tokenBytes(_ token: Int32) -> [UInt8] {
    vocabulary.endOfGeneration.contains(token) ? [] : vocabulary.pieces[Int(token)]
  }

  /// Sets `mask[id]` to whether token `id` may come next; returns how many may.
  /// `mask` must have `vocabulary.vocabularySize` elements.
  @discardableResult
  public func allowedTokens(into mask: UnsafeMutableBufferPointer<Bool>) -> Int {
    precondition(mask.count == vocabulary.vocabularySize, "mask size must equal the vocabulary size")
    mask.update(repeating: false)
    var count = 0
    if canEnd {
      for id in vocabulary.endOfGeneration {
        mask[Int(id)] = true
        count += 1
      }
    }
    // Plain string content leaves the state unchanged, so inside a string (and inside a free
    // object key) those tokens are all allowed at once and only the rest is walked.
    var trie = vocabulary.all
    let limited = atStringLimit
    if let top = frames.last, top.aux == 0, top.kind == .string || (top.kind == .key && isFreeKey()) {
      // At the string limit plain content is not allowed: it never closes the string.
      if !limited {
        for i in 0..<mask.count where vocabulary.stringContent[i] { mask[i] = true }
        count += vocabulary.stringContentCount
      }
      trie = vocabulary.notStringContent
    }
    let limits = self.limits
    let levels = trie.maxTokenLength + 1
    let width = limits.maxDepth
    // One stack of frames per trie depth: a child state is its parent's copied and stepped once.
    let scratch = UnsafeMutablePointer<JSONAutomaton.Frame>.allocate(capacity: levels * width)
    defer { scratch.deallocate() }
    let depths = UnsafeMutablePointer<Int>.allocate(capacity: 2 * levels)
    defer { depths.deallocate() }
    for (i, f) in frames.enumerated() { scratch[i] = f }
    depths[0] = frames.count
    depths[levels] = whitespace
    var walker = MaskWalker(
      trie: trie, tables: grammar.tables!, limits: limits, frames: scratch, width: width, depths: depths,
      spaces: depths + levels, mask: mask.baseAddress!)
    walker.walk(node: 0, level: 0)
    count += walker.count
    if limited {
      // Of what the grammar allows, keep the tokens that close the string (few: the walk above
      // skipped plain content).
      for i in 0..<mask.count where mask[i] {
        var copy = self
        if (try? copy.advance(token: Int32(i))) == nil {
          mask[i] = false
          count -= 1
        }
      }
    }
    return count
  }

  /// The top frame is a key where an additional property may come: any content byte is accepted
  /// there (only the matched-property bookkeeping changes, which a later quote reads from the walk).
  private func isFreeKey() -> Bool {
    let object = frames[frames.count - 2]
    return JSONAutomaton.additionalAllowed(grammar.tables!.nodes[Int(object.node)], object.seen)
  }

  /// `[Bool]` form of `allowedTokens(into:)`.
  public func allowedTokens() -> [Bool] {
    var mask = [Bool](repeating: false, count: vocabulary.vocabularySize)
    mask.withUnsafeMutableBufferPointer { _ = allowedTokens(into: $0) }
    return mask
  }

  /// Sets the logits of disallowed tokens to -infinity; returns how many tokens stay allowed
  /// (0 means a dead end: `advance` cannot succeed whatever is sampled).
  @discardableResult
  public func mask(logits: UnsafeMutableBufferPointer<Float>) -> Int {
    let n = min(logits.count, vocabulary.vocabularySize)
    let allowed = UnsafeMutableBufferPointer<Bool>.allocate(capacity: vocabulary.vocabularySize)
    defer { allowed.deallocate() }
    let count = allowedTokens(into: allowed)
    for i in 0..<n where !allowed[i] { logits[i] = -.infinity }
    for i in n..<logits.count { logits[i] = -.infinity }
    return count
  }

  /// `mask(logits:)` over an array.
  @discardableResult
  public func mask(logits: inout [Float]) -> Int {
    logits.withUnsafeMutableBufferPointer { mask(logits: $0) }
  }
}

/// Depth-first walk of the token trie carrying automaton states; marks every token whose bytes
/// all step successfully.
private struct MaskWalker {
  let trie: TokenTrie.Trie
  let tables: JSONGrammar.Tables
  let limits: JSONAutomaton.Limits
  let frames: UnsafeMutablePointer<JSONAutomaton.Frame>  // [levels, width]
  let width: Int
  let depths: UnsafeMutablePointer<Int>  // [levels] stack depth per level
  let spaces: UnsafeMutablePointer<Int>  // [levels] whitespace run per level
  let mask: UnsafeMutablePointer<Bool>
  var count = 0

  mutating func walk(node: Int, level: Int) {
    let parent = frames + level * width
    let child = parent + width
    let parentDepth = depths[level]
    let first = Int(trie.firstEdge[node])
    let end = first + Int(trie.edgeCount[node])
    for e in first..<end {
      child.update(from: parent, count: parentDepth)
      var depth = parentDepth
      var ws = spaces[level]
      guard JSONAutomaton.step(tables, child, &depth, &ws, trie.edgeByte[e], limits) else { continue }
      let target = Int(trie.edgeTarget[e])
      let tokenStart = Int(trie.firstToken[target])
      for k in 0..<Int(trie.tokenCount[target]) {
        mask[Int(trie.tokens[tokenStart + k])] = true
        count += 1
      }
      if trie.edgeCount[target] > 0 {
        depths[level + 1] = depth
        spaces[level + 1] = ws
        walk(node: target, level: level + 1)
      }
    }
  }
}

/// The engine's per-request constraint interface. `advance` cannot report an error here; a token
/// the mask forbade (only possible if the caller skipped `mask`) leaves the state unchanged.
extension JSONConstraint: TokenConstraint {
  public mutating func mask(_ logits: UnsafeMutableBufferPointer<Float>) {
    mask(logits: logits)
  }

  public mutating func advance(_ token: Int32) {
    try? advance(token: token)
  }
}
