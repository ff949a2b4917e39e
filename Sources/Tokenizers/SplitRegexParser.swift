/// The syntax tree of a `SplitRegex` pattern.
indirect enum SplitRegexNode: Sendable {
  case empty
  case set(Int)
  case sequence([SplitRegexNode])
  case alternation([SplitRegexNode])
  /// `max == nil` is unbounded.
  case repeated(SplitRegexNode, min: Int, max: Int?, greedy: Bool)
  case lookahead(SplitRegexNode, negated: Bool)
  case atStart
  case atEnd
  case wordBoundary(Bool)

  /// Whether the node can match without consuming anything.
  var nullable: Bool {
    switch self {
    case .empty, .lookahead, .atStart, .atEnd, .wordBoundary: return true
    case .set: return false
    case .sequence(let items): return items.allSatisfy(\.nullable)
    case .alternation(let items): return items.contains(where: \.nullable)
    case .repeated(let body, let min, _, _): return min == 0 || body.nullable
    }
  }

  /// A superset of the values a non-empty match can begin with.
  func first(_ sets: [ValueSet]) -> ValueSet {
    switch self {
    case .empty, .lookahead, .atStart, .atEnd, .wordBoundary: return ValueSet()
    case .set(let i): return sets[i]
    case .sequence(let items):
      var out = ValueSet()
      for item in items {
        out = out.union(item.first(sets))
        if !item.nullable { break }
      }
      return out
    case .alternation(let items): return items.reduce(ValueSet()) { $0.union($1.first(sets)) }
    case .repeated(let body, _, _, _): return body.first(sets)
    }
  }
}

/// Recursive-descent parser for the ECMAScript subset the pre-tokenizer patterns use:
/// alternation, groups `( )` `(?: )`, lookaheads `(?= )` `(?! )`, the quantifiers `* + ? {n}
/// {n,} {n,m}` (lazy with a trailing `?`), brackets with ranges and negation, `. ^ $ \b \B`,
/// the class escapes `\s \S \d \D \w \W`, and `\x{…}` for a stand-in byte.
struct SplitRegexParser {
  private let s: [Unicode.Scalar]
  private var i = 0
  private(set) var sets: [ValueSet] = []

  init(pattern: String) {
    s = Array(pattern.unicodeScalars)
  }

  mutating func parse() -> SplitRegexNode {
    let node = parseAlternation()
    precondition(i == s.count, "unexpected '\(s[i])' in pre-tokenizer pattern")
    return node
  }

  private mutating func parseAlternation() -> SplitRegexNode {
    var branches = [parseSequence()]
    while i < s.count && s[i] == "|" {
      i += 1
      branches.append(parseSequence())
    }
    return branches.count == 1 ? branches[0] : .alternation(branches)
  }

  private mutating func parseSequence() -> SplitRegexNode {
    var items: [SplitRegexNode] = []
    while i < s.count && s[i] != "|" && s[i] != ")" {
      items.append(parseQuantified(parseAtom()))
    }
    return items.isEmpty ? .empty : items.count == 1 ? items[0] : .sequence(items)
  }

  private mutating func parseQuantified(_ atom: SplitRegexNode) -> SplitRegexNode {
    guard i < s.count else { return atom }
    var min = 0
    var max: Int?
    switch s[i] {
    case "*": i += 1
    case "+": i += 1; min = 1
    case "?": i += 1; max = 1
    case "{":
      guard let (lo, hi) = parseBraces() else { return atom }
      min = lo
      max = hi
    default: return atom
    }
    var greedy = true
    if i < s.count && s[i] == "?" {
      greedy = false
      i += 1
    }
    return .repeated(atom, min: min, max: max, greedy: greedy)
  }

  /// `{n}`, `{n,}` or `{n,m}`; nil (and nothing consumed) when the brace is a literal.
  private mutating func parseBraces() -> (Int, Int?)? {
    var j = i + 1
    func number() -> Int? {
      var v: Int?
      while j < s.count, let d = Int(String(s[j])), s[j].isASCII {
        v = (v ?? 0) * 10 + d
        j += 1
      }
      return v
    }
    guard let lo = number() else { return nil }
    var hi: Int? = lo
    if j < s.count && s[j] == "," {
      j += 1
      hi = number()
    }
    guard j < s.count && s[j] == "}" else { return nil }
    i = j + 1
    return (lo, hi)
  }

  private mutating func parseAtom() -> SplitRegexNode {
    let c = s[i]
    i += 1
    switch c {
    case "(":
      var node: SplitRegexNode
      if i + 1 < s.count && s[i] == "?" {
        let kind = s[i + 1]
        i += 2
        let body = parseAlternation()
        switch kind {
        case ":": node = body
        case "=": node = .lookahead(body, negated: false)
        case "!": node = .lookahead(body, negated: true)
        default: preconditionFailure("unsupported group (?\(kind) in pre-tokenizer pattern")
        }
      } else {
        node = parseAlternation()
      }
      precondition(i < s.count && s[i] == ")", "unclosed group in pre-tokenizer pattern")
      i += 1
      return node
    case "[": return .set(addSet(parseBracket()))
    case ".":
      var any = ValueSet()
      for v: UInt32 in [0x0A, 0x0D, 0x2028, 0x2029] { any.insert(v...v) }
      return .set(addSet(any.complement))
    case "^": return .atStart
    case "$": return .atEnd
    case "\\":
      if s[i] == "b" || s[i] == "B" {
        i += 1
        return .wordBoundary(s[i - 1] == "b")
      }
      return .set(addSet(parseEscape().set))
    default:
      var one = ValueSet()
      one.insert(c.value...c.value)
      return .set(addSet(one))
    }
  }

  private mutating func addSet(_ set: ValueSet) -> Int {
    sets.append(set)
    return sets.count - 1
  }

  /// After `[`: items up to the closing `]`.
  private mutating func parseBracket() -> ValueSet {
    var set = ValueSet()
    var negated = false
    if i < s.count && s[i] == "^" {
      negated = true
      i += 1
    }
    while i < s.count && s[i] != "]" {
      let lower = parseBracketItem()
      if i + 1 < s.count, s[i] == "-", s[i + 1] != "]", case .single(let lo) = lower {
        i += 1
        guard case .single(let hi) = parseBracketItem() else { preconditionFailure("bad range in pre-tokenizer pattern") }
        set.insert(lo...hi)
        continue
      }
      switch lower {
      case .single(let v): set.insert(v...v)
      case .set(let other): set = set.union(other)
      }
    }
    precondition(i < s.count, "unclosed bracket in pre-tokenizer pattern")
    i += 1
    if negated { set.negated = true }
    return set
  }

  /// One value (which can start or end a range) or a class escape.
  private enum BracketItem {
    case single(UInt32)
    case set(ValueSet)

    var set: ValueSet {
      switch self {
      case .single(let v):
        var one = ValueSet()
        one.insert(v...v)
        return one
      case .set(let set): return set
      }
    }
  }

  private mutating func parseBracketItem() -> BracketItem {
    let c = s[i]
    i += 1
    return c == "\\" ? parseEscape() : .single(c.value)
  }

  /// After a backslash: a class escape, a control escape, `\x{…}`, or an escaped literal.
  private mutating func parseEscape() -> BracketItem {
    let c = s[i]
    i += 1
    var set = ValueSet()
    switch c {
    case "s", "S":
      for v: UInt32 in [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20] { set.insert(v...v) }
      return .set(c == "S" ? set.complement : set)
    case "d", "D":
      set.insert(0x30...0x39)
      return .set(c == "D" ? set.complement : set)
    case "w", "W":
      set.insert(0x30...0x39)
      set.insert(0x41...0x5A)
      set.insert(0x61...0x7A)
      set.insert(0x5F...0x5F)
      return .set(c == "W" ? set.complement : set)
    case "r": return .single(0x0D)
    case "n": return .single(0x0A)
    case "t": return .single(0x09)
    case "f": return .single(0x0C)
    case "v": return .single(0x0B)
    case "x" where i < s.count && s[i] == "{":
      var v: UInt32 = 0
      i += 1
      while s[i] != "}" {
        v = v * 16 + UInt32(String(s[i]), radix: 16)!
        i += 1
      }
      i += 1
      return .single(v)
    default:
      return .single(c.value)
    }
  }
}

/// Lays a syntax tree out as `SplitRegex.Op`s.
struct SplitRegexCompiler {
  var program: [SplitRegex.Op] = []
  var sets: [ValueSet]
  /// The `split` of each unbounded loop outside lookaheads, which matching memoises.
  var loopHeads: [Int] = []
  private var lookaheadDepth = 0

  init(sets: [ValueSet]) {
    self.sets = sets
  }

  mutating func emit(_ node: SplitRegexNode) {
    switch node {
    case .empty: break
    case .set(let i): program.append(.set(i))
    case .sequence(let items): for item in items { emit(item) }
    case .alternation(let branches):
      // split(b1, next) b1 jump(end) split(b2, next) b2 jump(end) … bn
      var jumps: [Int] = []
      for (k, branch) in branches.enumerated() {
        if k == branches.count - 1 {
          emit(branch)
        } else {
          let split = program.count
          program.append(.split(split + 1, 0))
          emit(branch)
          jumps.append(program.count)
          program.append(.jump(0))
          program[split] = .split(split + 1, program.count)
        }
      }
      for j in jumps { program[j] = .jump(program.count) }
    case .repeated(let body, let min, let max, let greedy):
      for _ in 0..<min { emit(body) }
      if let max {
        // Each optional copy: split(copy, end); the ends are patched once known.
        var splits: [Int] = []
        for _ in min..<max {
          splits.append(program.count)
          program.append(.split(0, 0))
          emit(body)
        }
        let end = program.count
        for sp in splits { program[sp] = greedy ? .split(sp + 1, end) : .split(end, sp + 1) }
      } else {
        precondition(!body.nullable, "a loop whose body can match empty in a pre-tokenizer pattern")
        let loop = program.count
        program.append(.split(0, 0))
        if lookaheadDepth == 0 { loopHeads.append(loop) }
        emit(body)
        program.append(.jump(loop))
        let end = program.count
        program[loop] = greedy ? .split(loop + 1, end) : .split(end, loop + 1)
      }
    case .lookahead(let body, let negated):
      let at = program.count
      program.append(.lookahead(negated: negated, next: 0))
      lookaheadDepth += 1
      emit(body)
      lookaheadDepth -= 1
      program.append(.match)
      program[at] = .lookahead(negated: negated, next: program.count)
    case .atStart: program.append(.atStart)
    case .atEnd: program.append(.atEnd)
    case .wordBoundary(let b): program.append(.wordBoundary(b))
    }
  }
}
