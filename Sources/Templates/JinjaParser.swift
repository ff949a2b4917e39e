/// Expressions of the supported Jinja subset.
indirect enum JinjaExpr: Sendable {
  case none
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)
  case name(String)
  case list([JinjaExpr])
  case dict([(JinjaExpr, JinjaExpr)])
  case attribute(JinjaExpr, String)
  case index(JinjaExpr, JinjaExpr)
  case slice(JinjaExpr, JinjaExpr?, JinjaExpr?, JinjaExpr?)
  case call(JinjaExpr, [JinjaExpr], [(String, JinjaExpr)])
  case filter(JinjaExpr, String, [JinjaExpr], [(String, JinjaExpr)])
  case test(JinjaExpr, String, [JinjaExpr], negated: Bool)
  case not(JinjaExpr)
  case negate(JinjaExpr)
  case binary(String, JinjaExpr, JinjaExpr)
  case and(JinjaExpr, JinjaExpr)
  case or(JinjaExpr, JinjaExpr)
  case conditional(JinjaExpr, condition: JinjaExpr, otherwise: JinjaExpr?)
}

/// Statements of the supported Jinja subset.
indirect enum JinjaNode: Sendable {
  case text(String)
  case output(JinjaExpr)
  case ifChain([(JinjaExpr, [JinjaNode])], otherwise: [JinjaNode])
  case forLoop(targets: [String], iterable: JinjaExpr, filter: JinjaExpr?, body: [JinjaNode], otherwise: [JinjaNode])
  /// `set a = …`, `set a, b = …` or `set ns.attr = …` (attribute is non-nil).
  case set(targets: [String], attribute: String?, JinjaExpr)
  case setBlock(String, [JinjaNode])
  case macro(name: String, parameters: [(String, JinjaExpr?)], body: [JinjaNode])
  case filterBlock(String, [JinjaExpr], [JinjaNode])
  case breakLoop
  case continueLoop
}

/// Recursive-descent parser over lexed segments, with Jinja's operator precedence.
struct JinjaParser {
  /// Deep nesting is refused so that a hostile template cannot overflow the stack.
  static let maxDepth = 64

  private let segments: [JinjaSegment]
  private var position = 0
  private var tokens: [JinjaToken] = []
  private var t = 0
  private var line = 1
  private var depth = 0

  init(_ segments: [JinjaSegment]) { self.segments = segments }

  mutating func parseTemplate() throws(JinjaError) -> [JinjaNode] {
    let (body, end) = try parseBody(until: [])
    if let end { throw .syntax("unexpected '\(end)'", line: line) }
    return body
  }

  /// Parses nodes until a statement whose keyword is in `enders`; returns that keyword with its
  /// tokens left current (nil at end of input).
  private mutating func parseBody(until enders: Set<String>) throws(JinjaError) -> ([JinjaNode], String?) {
    depth += 1
    defer { depth -= 1 }
    guard depth <= JinjaParser.maxDepth else { throw .syntax("blocks nested too deeply", line: line) }
    var nodes: [JinjaNode] = []
    while position < segments.count {
      let seg = segments[position]
      position += 1
      switch seg {
      case .text(let s): nodes.append(.text(s))
      case .output(let toks, let l):
        begin(toks, l)
        let e = try expression()
        try expectEnd()
        nodes.append(.output(e))
      case .statement(let toks, let l):
        begin(toks, l)
        guard case .name(let keyword) = next() else { throw .syntax("expected a statement keyword", line: line) }
        if enders.contains(keyword) { return (nodes, keyword) }
        nodes.append(try statement(keyword))
      }
    }
    if !enders.isEmpty {
      throw .syntax("missing \(enders.sorted().joined(separator: " or "))", line: line)
    }
    return (nodes, nil)
  }

  private mutating func statement(_ keyword: String) throws(JinjaError) -> JinjaNode {
    switch keyword {
    case "raw":
      guard case .string(let s) = next() else { throw .syntax("bad raw block", line: line) }
      return .text(s)
    case "if":
      var branches: [(JinjaExpr, [JinjaNode])] = []
      var condition = try expression()
      try expectEnd()
      while true {
        let (body, end) = try parseBody(until: ["elif", "else", "endif"])
        branches.append((condition, body))
        if end == "elif" {
          condition = try expression()
          try expectEnd()
          continue
        }
        var otherwise: [JinjaNode] = []
        if end == "else" {
          try expectEnd()
          (otherwise, _) = try parseBody(until: ["endif"])
        }
        try expectEnd()
        return .ifChain(branches, otherwise: otherwise)
      }
    case "for":
      var targets = [try name()]
      while accept(",") { targets.append(try name()) }
      guard case .name("in") = next() else { throw .syntax("expected 'in'", line: line) }
      let iterable = try expression(allowConditional: false)
      var filter: JinjaExpr?
      if peek == .name("if") {
        t += 1
        filter = try expression(allowConditional: false)
      }
      if peek == .name("recursive") { throw .syntax("recursive loops are not supported", line: line) }
      try expectEnd()
      let (body, end) = try parseBody(until: ["else", "endfor"])
      var otherwise: [JinjaNode] = []
      if end == "else" {
        try expectEnd()
        (otherwise, _) = try parseBody(until: ["endfor"])
      }
      try expectEnd()
      return .forLoop(targets: targets, iterable: iterable, filter: filter, body: body, otherwise: otherwise)
    case "set":
      var targets = [try name()]
      var attribute: String?
      if accept(".") {
        attribute = try name()
      } else {
        while accept(",") { targets.append(try name()) }
      }
      if atEnd, attribute == nil, targets.count == 1 {
        let (body, _) = try parseBody(until: ["endset"])
        try expectEnd()
        return .setBlock(targets[0], body)
      }
      guard accept("=") else { throw .syntax("expected '='", line: line) }
      let value = try expression()
      try expectEnd()
      return .set(targets: targets, attribute: attribute, value)
    case "macro":
      let macroName = try name()
      guard accept("(") else { throw .syntax("expected '('", line: line) }
      var parameters: [(String, JinjaExpr?)] = []
      while !accept(")") {
        let p = try name()
        parameters.append((p, accept("=") ? try expression() : nil))
        if !accept(",") {
          guard accept(")") else { throw .syntax("expected ')'", line: line) }
          break
        }
      }
      try expectEnd()
      let (body, _) = try parseBody(until: ["endmacro"])
      _ = next()  // optional macro name after endmacro
      return .macro(name: macroName, parameters: parameters, body: body)
    case "filter":
      let f = try name()
      var args: [JinjaExpr] = []
      if accept("(") { (args, _) = try callArguments() }
      try expectEnd()
      let (body, _) = try parseBody(until: ["endfilter"])
      try expectEnd()
      return .filterBlock(f, args, body)
    case "break":
      try expectEnd()
      return .breakLoop
    case "continue":
      try expectEnd()
      return .continueLoop
    case "generation", "endgeneration":
      // HF's marker for assistant-token masks during training; it renders nothing.
      return .text("")
    default:
      throw .syntax("unknown statement '\(keyword)'", line: line)
    }
  }

  // MARK: Token helpers

  private mutating func begin(_ toks: [JinjaToken], _ l: Int) {
    tokens = toks
    t = 0
    line = l
  }

  private var peek: JinjaToken? { t < tokens.count ? tokens[t] : nil }
  private var atEnd: Bool { t >= tokens.count }

  private mutating func next() -> JinjaToken? {
    defer { t += 1 }
    return peek
  }

  private mutating func accept(_ op: String) -> Bool {
    if peek == .op(op) {
      t += 1
      return true
    }
    return false
  }

  private mutating func acceptName(_ n: String) -> Bool {
    if peek == .name(n) {
      t += 1
      return true
    }
    return false
  }

  private mutating func expectEnd() throws(JinjaError) {
    if let p = peek { throw .syntax("unexpected \(p) in tag", line: line) }
  }

  private mutating func name() throws(JinjaError) -> String {
    guard case .name(let n) = next() else { throw .syntax("expected a name", line: line) }
    return n
  }

  // MARK: Expressions, lowest precedence first

  mutating func expression(allowConditional: Bool = true) throws(JinjaError) -> JinjaExpr {
    depth += 1
    defer { depth -= 1 }
    guard depth <= JinjaParser.maxDepth else { throw .syntax("expression nested too deeply", line: line) }
    let e = try or()
    guard allowConditional, acceptName("if") else { return e }
    let condition = try or()
    let otherwise = acceptName("else") ? try expression() : nil
    return .conditional(e, condition: condition, otherwise: otherwise)
  }

  private mutating func or() throws(JinjaError) -> JinjaExpr {
    var e = try and()
    while acceptName("or") { e = .or(e, try and()) }
    return e
  }

  private mutating func and() throws(JinjaError) -> JinjaExpr {
    var e = try not()
    while acceptName("and") { e = .and(e, try not()) }
    return e
  }

  private mutating func not() throws(JinjaError) -> JinjaExpr {
    if acceptName("not") {
      depth += 1
      defer { depth -= 1 }
      guard depth <= JinjaParser.maxDepth else { throw .syntax("expression nested too deeply", line: line) }
      return .not(try not())
    }
    return try compare()
  }

  private mutating func compare() throws(JinjaError) -> JinjaExpr {
    var e = try additive()
    while true {
      if case .op(let o) = peek, ["==", "!=", "<", ">", "<=", ">="].contains(o) {
        t += 1
        e = .binary(o, e, try additive())
      } else if acceptName("in") {
        e = .binary("in", e, try additive())
      } else if peek == .name("not"), t + 1 < tokens.count, tokens[t + 1] == .name("in") {
        t += 2
        e = .not(.binary("in", e, try additive()))
      } else {
        return e
      }
    }
  }

  private mutating func additive() throws(JinjaError) -> JinjaExpr {
    var e = try concat()
    while true {
      if accept("+") {
        e = .binary("+", e, try concat())
      } else if accept("-") {
        e = .binary("-", e, try concat())
      } else {
        return e
      }
    }
  }

  private mutating func concat() throws(JinjaError) -> JinjaExpr {
    var e = try multiplicative()
    while accept("~") { e = .binary("~", e, try multiplicative()) }
    return e
  }

  private mutating func multiplicative() throws(JinjaError) -> JinjaExpr {
    var e = try power()
    while true {
      if case .op(let o) = peek, ["*", "/", "//", "%"].contains(o) {
        t += 1
        e = .binary(o, e, try power())
      } else {
        return e
      }
    }
  }

  private mutating func power() throws(JinjaError) -> JinjaExpr {
    var e = try unary()
    while accept("**") { e = .binary("**", e, try unary()) }
    return e
  }

  private mutating func unary() throws(JinjaError) -> JinjaExpr {
    depth += 1
    defer { depth -= 1 }
    guard depth <= JinjaParser.maxDepth else { throw .syntax("expression nested too deeply", line: line) }
    if accept("-") { return .negate(try unary()) }
    if accept("+") { return try unary() }
    return try filtersAndTests(try postfix(try primary()))
  }

  private mutating func primary() throws(JinjaError) -> JinjaExpr {
    guard let tok = next() else { throw .syntax("unexpected end of expression", line: line) }
    switch tok {
    case .string(var s):
      // Adjacent string literals concatenate.
      while case .string(let more) = peek {
        s += more
        t += 1
      }
      return .string(s)
    case .int(let v): return .int(v)
    case .double(let v): return .double(v)
    case .name(let n):
      switch n {
      case "true", "True": return .bool(true)
      case "false", "False": return .bool(false)
      case "none", "None": return .none
      default: return .name(n)
      }
    case .op("("):
      if accept(")") { return .list([]) }
      let first = try expression()
      if accept(")") { return first }
      var items = [first]
      while accept(",") {
        if peek == .op(")") { break }
        items.append(try expression())
      }
      guard accept(")") else { throw .syntax("expected ')'", line: line) }
      return .list(items)
    case .op("["):
      var items: [JinjaExpr] = []
      while !accept("]") {
        items.append(try expression())
        if !accept(",") {
          guard accept("]") else { throw .syntax("expected ']'", line: line) }
          break
        }
      }
      return .list(items)
    case .op("{"):
      var pairs: [(JinjaExpr, JinjaExpr)] = []
      while !accept("}") {
        let k = try expression()
        guard accept(":") else { throw .syntax("expected ':' in dict literal", line: line) }
        pairs.append((k, try expression()))
        if !accept(",") {
          guard accept("}") else { throw .syntax("expected '}'", line: line) }
          break
        }
      }
      return .dict(pairs)
    default:
      throw .syntax("unexpected \(tok)", line: line)
    }
  }

  private mutating func postfix(_ base: JinjaExpr) throws(JinjaError) -> JinjaExpr {
    var e = base
    while true {
      if accept(".") {
        if case .int(let k) = peek {
          t += 1
          e = .index(e, .int(k))
        } else {
          e = .attribute(e, try name())
        }
      } else if accept("[") {
        var parts: [JinjaExpr?] = [nil]
        var isSlice = false
        while !accept("]") {
          if accept(":") {
            isSlice = true
            parts.append(nil)
            continue
          }
          guard parts[parts.count - 1] == nil else { throw .syntax("expected ']'", line: line) }
          parts[parts.count - 1] = try expression()
        }
        if isSlice {
          guard parts.count <= 3 else { throw .syntax("bad slice", line: line) }
          while parts.count < 3 { parts.append(nil) }
          e = .slice(e, parts[0], parts[1], parts[2])
        } else {
          guard let k = parts[0] else { throw .syntax("empty subscript", line: line) }
          e = .index(e, k)
        }
      } else if accept("(") {
        let (args, kwargs) = try callArguments()
        e = .call(e, args, kwargs)
      } else {
        return e
      }
    }
  }

  /// Arguments after an opening parenthesis, through the closing one.
  private mutating func callArguments() throws(JinjaError) -> ([JinjaExpr], [(String, JinjaExpr)]) {
    var args: [JinjaExpr] = []
    var kwargs: [(String, JinjaExpr)] = []
    while !accept(")") {
      if case .name(let k) = peek, t + 1 < tokens.count, tokens[t + 1] == .op("=") {
        t += 2
        kwargs.append((k, try expression()))
      } else {
        args.append(try expression())
      }
      if !accept(",") {
        guard accept(")") else { throw .syntax("expected ')'", line: line) }
        break
      }
    }
    return (args, kwargs)
  }

  private mutating func filtersAndTests(_ base: JinjaExpr) throws(JinjaError) -> JinjaExpr {
    var e = base
    while true {
      if accept("|") {
        let f = try name()
        var args: [JinjaExpr] = []
        var kwargs: [(String, JinjaExpr)] = []
        if accept("(") { (args, kwargs) = try callArguments() }
        e = .filter(e, f, args, kwargs)
      } else if acceptName("is") {
        let negated = acceptName("not")
        var testName = try name()
        // `is none`, `is true`: keywords spelled as names.
        testName = testName.lowercased() == "none" ? "none" : testName
        var args: [JinjaExpr] = []
        if accept("(") {
          (args, _) = try callArguments()
        } else if let p = peek, startsArgument(p) {
          args = [try additive()]
        }
        e = .test(e, testName, args, negated: negated)
      } else {
        return e
      }
    }
  }

  /// `x is divisibleby 3`, `x is equalto 'a'`: a test may take one argument without parentheses.
  private func startsArgument(_ tok: JinjaToken) -> Bool {
    switch tok {
    case .string, .int, .double: true
    case .name(let n): !["and", "or", "if", "else", "is", "in", "not"].contains(n)
    case .op(let o): o == "[" || o == "{" || o == "-"
    }
  }
}
