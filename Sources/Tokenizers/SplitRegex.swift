/// One pre-tokenizer regex, compiled the way llama.cpp runs the regexes it has no hand-written
/// splitter for: as a C++ `std::regex` in ECMAScript mode (leftmost match, alternatives tried in
/// order, greedy backtracking), over one value per code point.
///
/// llama.cpp first rewrites the text so that `std::regex` can see Unicode categories, and the
/// rewrite is part of the behaviour a model's ids depend on:
/// - a pattern naming a category (`\p{L}`, `\p{N}`, `\p{P}`, `\p{M}`, `\p{S}`, `\p{Lu}` …) runs
///   over *collapsed* values: ASCII stays, any other code point becomes one stand-in byte for its
///   category (`CodepointClass.collapsed`), and `\p{X}` means "that byte or X's ASCII members".
///   So `\p{Lu}` matches every non-ASCII letter, and `[^a-z]` every non-ASCII letter too.
/// - any other pattern runs over the code points themselves, except that non-ASCII whitespace
///   becomes U+000B (the C library's `\s` knows only ASCII).
/// `\s` is ASCII whitespace, `\d` ASCII digits, `\w` ASCII word characters, as in the C locale.
struct SplitRegex: Sendable {
  enum Op: Sendable {
    /// Consume one value in `sets[i]`.
    case set(Int)
    /// Try `first`, and on failure `second`.
    case split(Int, Int)
    case jump(Int)
    /// Lookahead: its body starts at the next op and ends in `.match`; continue at `next` when the
    /// body matched (or, negated, did not).
    case lookahead(negated: Bool, next: Int)
    case atStart
    case atEnd
    case wordBoundary(Bool)
    case match
  }

  let pattern: String
  /// Whether the pattern names Unicode categories, so it runs over collapsed values.
  let collapsed: Bool
  let program: [Op]
  let sets: [ValueSet]
  /// The values a match can begin with, when a match is never empty; positions holding anything
  /// else are skipped without running the program.
  let firstValues: ValueSet?
  /// For each op, its slot in the failure memo (see `split`), or -1.
  let memoSlot: [Int32]
  let memoSlots: Int

  /// Category names llama.cpp recognises, and the stand-in byte and ASCII members of each.
  static let categories: [(name: String, byte: UInt32, ascii: String)] = [
    ("\\p{N}", 0xD1, "0-9"),
    ("\\p{L}", 0xD2, "A-Za-z"),
    ("\\p{P}", 0xD3, "!-#%-*,-/:-;?-@\\[-\\]_\\{\\}"),
    ("\\p{M}", 0xD4, ""),
    ("\\p{S}", 0xD5, "\\$\\+<->\\^`\\|~"),
    ("\\p{Lu}", 0xD2, "A-Za-z"),
    ("\\p{Ll}", 0xD2, "A-Za-z"),
    ("\\p{Lt}", 0xD2, "A-Za-z"),
    ("\\p{Lm}", 0xD2, "A-Za-z"),
    ("\\p{Lo}", 0xD2, "A-Za-z"),
  ]

  /// Compiles `pattern`. The patterns are the constants in `PreTokenizerType`, so a pattern
  /// outside the supported syntax is a programmer error caught by the tests.
  init(_ pattern: String) {
    self.pattern = pattern
    collapsed = SplitRegex.categories.contains { pattern.contains($0.name) }
    var parser = SplitRegexParser(pattern: collapsed ? SplitRegex.expandCategories(pattern) : pattern)
    let tree = parser.parse()
    var compiler = SplitRegexCompiler(sets: parser.sets)
    compiler.emit(tree)
    compiler.program.append(.match)
    program = compiler.program
    sets = compiler.sets
    var slots = [Int32](repeating: -1, count: program.count)
    for (k, pc) in compiler.loopHeads.enumerated() { slots[pc] = Int32(k) }
    memoSlot = slots
    memoSlots = compiler.loopHeads.count
    firstValues = tree.nullable ? nil : tree.first(parser.sets)
  }

  /// Rewrites each `\p{X}` as llama.cpp does: into a bracket of the stand-in byte and X's ASCII
  /// members, or, inside a bracket already, into just those members.
  static func expandCategories(_ pattern: String) -> String {
    var out = ""
    let s = Array(pattern.unicodeScalars)
    var inside = false
    var i = 0
    while i < s.count {
      let c = s[i]
      if c == "[" && (i == 0 || s[i - 1] != "\\") {
        inside = true
      } else if inside && c == "]" && s[i - 1] != "\\" {
        inside = false
      } else if c == "\\", i + 1 < s.count, s[i + 1] == "p",
        let category = categories.first(where: { pattern.unicodeScalars[...].dropFirst(i).starts(with: $0.name.unicodeScalars) })
      {
        let members = "\\x{\(String(category.byte, radix: 16))}" + category.ascii
        out += inside ? members : "[" + members + "]"
        i += category.name.unicodeScalars.count
        continue
      }
      out.unicodeScalars.append(c)
      i += 1
    }
    return out
  }
}

/// A set of values (code points, or collapsed stand-ins): a bitmap below 256, sorted ranges above.
struct ValueSet: Sendable {
  /// Bit v of word v / 64 for each value v below 256.
  var low = SIMD4<UInt64>(repeating: 0)
  /// Disjoint, sorted, all ≥ 256.
  var high: [ClosedRange<UInt32>] = []
  var negated = false

  @inline(__always)
  func contains(_ v: UInt32) -> Bool {
    let inside: Bool
    if v < 256 {
      inside = low[Int(v >> 6)] & (1 << UInt64(v & 63)) != 0
    } else {
      var lo = 0
      var hi = high.count
      while lo < hi {
        let mid = (lo + hi) >> 1
        if high[mid].upperBound < v { lo = mid + 1 } else { hi = mid }
      }
      inside = lo < high.count && high[lo].contains(v)
    }
    return inside != negated
  }

  mutating func insert(_ range: ClosedRange<UInt32>) {
    var v = range.lowerBound
    while v <= range.upperBound && v < 256 {
      low[Int(v >> 6)] |= 1 << UInt64(v & 63)
      v += 1
    }
    guard range.upperBound >= 256 else { return }
    high.append(max(range.lowerBound, 256)...range.upperBound)
    high.sort { $0.lowerBound < $1.lowerBound }
    var merged: [ClosedRange<UInt32>] = []
    for r in high {
      if let last = merged.last, r.lowerBound <= last.upperBound &+ 1 {
        merged[merged.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
      } else {
        merged.append(r)
      }
    }
    high = merged
  }

  /// `self ∪ other`, both taken with their negation applied.
  func union(_ other: ValueSet) -> ValueSet {
    if !negated && !other.negated {
      var out = self
      out.low = low | other.low
      for r in other.high { out.insert(r) }
      return out
    }
    // A negated set is never a first-value set worth refining: match everything.
    return ValueSet(negated: true)
  }

  /// Everything not in `self` (as a positive set where possible).
  var complement: ValueSet {
    var out = self
    out.negated.toggle()
    return out
  }
}
