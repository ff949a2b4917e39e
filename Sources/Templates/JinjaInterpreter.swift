import Foundation

/// Caps that keep a hostile template from hanging or exhausting memory.
public struct JinjaLimits: Sendable, Equatable {
  /// Work units (statements, loop iterations, calls, and bytes/256 of built strings) per render.
  public var maxSteps = 5_000_000
  /// Rendered output, and any single string or list built on the way, in bytes/elements.
  public var maxOutputBytes = 4 << 20
  /// Macro call nesting.
  public var maxCallDepth = 32
  /// Nesting of lists and dicts a template builds (deep values would recurse when freed).
  public var maxValueDepth = 64
  /// `namespace()` objects per render (a chain of them would recurse when freed).
  public var maxNamespaces = 1000
  /// Wall-clock time per render. Steps bound most work, but a step's cost varies (a membership
  /// test over a long list is one step), so time is capped too; real templates take milliseconds.
  public var maxDuration: Duration = .seconds(2)

  public init() {}
}

/// Walks the parsed template. One instance per render; not shared between threads.
final class JinjaInterpreter {
  enum Flow { case normal, breakLoop, continueLoop }

  let limits: JinjaLimits
  var scopes: [[String: JinjaValue]]
  var output = ""
  private var steps = 0
  private var callDepth = 0
  var namespaces = 0
  private let deadline: UInt64
  /// Charges since the clock was last read (reading it on every step would cost more than the step).
  private var sinceClock = 0

  /// What `strftime_now` formats.
  let now: Date

  init(globals: [String: JinjaValue], limits: JinjaLimits, now: Date = Date()) {
    self.limits = limits
    self.now = now
    let (seconds, attoseconds) = limits.maxDuration.components
    let budget = UInt64(clamping: seconds) &* 1_000_000_000 &+ UInt64(clamping: attoseconds / 1_000_000_000)
    deadline = DispatchTime.now().uptimeNanoseconds &+ budget
    scopes = [globals]
    installGlobals()
  }

  func charge(_ units: Int = 1) throws(JinjaError) {
    steps += units
    if steps > limits.maxSteps { throw .limitExceeded("more than \(limits.maxSteps) steps") }
    // Big charges stand for slow work (a sort, a search through a long list): check at once.
    sinceClock += units >= 1024 ? 64 : 1
    if sinceClock >= 64 {
      sinceClock = 0
      if DispatchTime.now().uptimeNanoseconds > deadline {
        throw .limitExceeded("rendering took longer than \(limits.maxDuration)")
      }
    }
  }

  func checkSize(_ count: Int) throws(JinjaError) {
    if count > limits.maxOutputBytes { throw .limitExceeded("a value larger than \(limits.maxOutputBytes) bytes") }
  }

  /// Refuses values nested deeper than the limit; charges the walk to the step budget.
  func checkDepth(_ v: JinjaValue) throws(JinjaError) {
    var visited = 0
    let depth = v.nestingDepth(limit: limits.maxValueDepth, visited: &visited)
    try charge(visited >> 4)
    if depth > limits.maxValueDepth { throw .limitExceeded("values nested deeper than \(limits.maxValueDepth)") }
  }

  func lookup(_ name: String) -> JinjaValue {
    for scope in scopes.reversed() {
      if let v = scope[name] { return v }
    }
    return .undefined
  }

  // MARK: Statements

  func run(_ nodes: [JinjaNode]) throws(JinjaError) -> Flow {
    for node in nodes {
      let flow = try run(node)
      if flow != .normal { return flow }
    }
    return .normal
  }

  private func emit(_ s: String) throws(JinjaError) {
    output += s
    try checkSize(output.utf8.count)
  }

  /// Renders `nodes` into a separate buffer (set blocks, macro calls, filter blocks).
  func capture(_ nodes: [JinjaNode]) throws(JinjaError) -> String {
    let saved = output
    output = ""
    defer { output = saved }
    _ = try run(nodes)
    return output
  }

  private func run(_ node: JinjaNode) throws(JinjaError) -> Flow {
    try charge()
    switch node {
    case .text(let s):
      try emit(s)
    case .output(let e):
      try emit(try eval(e).text)
    case .ifChain(let branches, let otherwise):
      for (condition, body) in branches where try eval(condition).truthy {
        return try run(body)
      }
      return try run(otherwise)
    case .forLoop(let targets, let iterable, let filter, let body, let otherwise):
      return try runLoop(targets: targets, iterable: iterable, filter: filter, body: body, otherwise: otherwise)
    case .set(let targets, let attribute, let e):
      let value = try eval(e)
      if let attribute {
        guard case .namespace(let ns) = lookup(targets[0]) else {
          throw .runtime("cannot set attribute '\(attribute)' on \(targets[0]), which is not a namespace")
        }
        try checkDepth(.object(JinjaObject(keys: ["v"], values: ["v": value])))
        ns.members[attribute] = value
      } else {
        try assign(targets, value)
      }
    case .setBlock(let name, let body):
      scopes[scopes.count - 1][name] = .string(try capture(body))
    case .macro(let name, let parameters, let body):
      scopes[scopes.count - 1][name] = .function(makeMacro(name, parameters, body))
    case .filterBlock(let name, let args, let body):
      let text = try capture(body)
      try emit(try applyFilter(name, .string(text), try args.map { (e) throws(JinjaError) in try eval(e) }, []).text)
    case .breakLoop:
      return .breakLoop
    case .continueLoop:
      return .continueLoop
    }
    return .normal
  }

  private func assign(_ targets: [String], _ value: JinjaValue) throws(JinjaError) {
    if targets.count == 1 {
      scopes[scopes.count - 1][targets[0]] = value
      return
    }
    let items = try iterate(value)
    guard items.count == targets.count else {
      throw .runtime("cannot unpack \(items.count) values into \(targets.count) names")
    }
    for (n, v) in zip(targets, items) { scopes[scopes.count - 1][n] = v }
  }

  private func runLoop(
    targets: [String], iterable: JinjaExpr, filter: JinjaExpr?, body: [JinjaNode], otherwise: [JinjaNode]
  ) throws(JinjaError) -> Flow {
    var items = try iterate(try eval(iterable))
    scopes.append([:])
    defer { scopes.removeLast() }
    if let filter {
      var kept: [JinjaValue] = []
      for item in items {
        try charge()
        try assign(targets, item)
        if try eval(filter).truthy { kept.append(item) }
      }
      items = kept
    }
    if items.isEmpty {
      scopes[scopes.count - 1] = [:]
      return try run(otherwise)
    }
    let n = items.count
    for (i, item) in items.enumerated() {
      try charge()
      scopes[scopes.count - 1] = [:]
      try assign(targets, item)
      var loop = JinjaObject()
      loop["index"] = .int(i + 1)
      loop["index0"] = .int(i)
      loop["revindex"] = .int(n - i)
      loop["revindex0"] = .int(n - i - 1)
      loop["first"] = .bool(i == 0)
      loop["last"] = .bool(i == n - 1)
      loop["length"] = .int(n)
      loop["depth"] = .int(1)
      loop["depth0"] = .int(0)
      loop["previtem"] = i > 0 ? items[i - 1] : .undefined
      loop["nextitem"] = i + 1 < n ? items[i + 1] : .undefined
      loop["cycle"] = .function(
        JinjaFunction(name: "cycle") { (args, _) throws(JinjaError) in
          guard !args.isEmpty else { throw .runtime("loop.cycle needs arguments") }
          return args[i % args.count]
        })
      scopes[scopes.count - 1]["loop"] = .object(loop)
      if try run(body) == .breakLoop { break }
    }
    return .normal
  }

  /// What `for` walks: list items, dict keys, string characters; nothing for undefined.
  func iterate(_ v: JinjaValue) throws(JinjaError) -> [JinjaValue] {
    switch v.plain {
    case .undefined: return []
    case .array(let a):
      // Filters walk what they iterate: charge the walk, as strings are charged by size.
      try charge(a.count >> 8)
      return a
    case .object(let o): return o.keys.map { .string($0) }
    case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
    case .namespace(let n): return n.members.keys.map { .string($0) }
    default: throw .runtime("\(v.typeName) is not iterable")
    }
  }

  private func makeMacro(_ name: String, _ parameters: [(String, JinjaExpr?)], _ body: [JinjaNode]) -> JinjaFunction {
    JinjaFunction(name: name) { [unowned self] (args, kwargs) throws(JinjaError) in
      guard self.callDepth < self.limits.maxCallDepth else {
        throw .limitExceeded("macro calls nested deeper than \(self.limits.maxCallDepth)")
      }
      var local: [String: JinjaValue] = [:]
      for (k, (p, defaultValue)) in parameters.enumerated() {
        if k < args.count {
          local[p] = args[k]
        } else if let kw = kwargs.last(where: { $0.0 == p }) {
          local[p] = kw.1
        } else if let defaultValue {
          local[p] = try self.eval(defaultValue)
        } else {
          local[p] = .undefined
        }
      }
      let saved = self.scopes
      self.scopes = [self.scopes[0], local]
      self.callDepth += 1
      defer {
        self.scopes = saved
        self.callDepth -= 1
      }
      return .string(try self.capture(body))
    }
  }

  // MARK: Expressions

  func eval(_ e: JinjaExpr) throws(JinjaError) -> JinjaValue {
    switch e {
    case .none: return .none
    case .bool(let b): return .bool(b)
    case .int(let i): return .int(i)
    case .double(let d): return .double(d)
    case .string(let s): return .string(s)
    case .name(let n): return lookup(n)
    case .list(let items):
      var out: [JinjaValue] = []
      for item in items { out.append(try eval(item)) }
      try checkDepth(.array(out))
      return .array(out)
    case .dict(let pairs):
      var o = JinjaObject()
      for (k, v) in pairs {
        guard case .string(let key) = try eval(k).plain else { throw .runtime("dict keys must be strings") }
        o[key] = try eval(v)
      }
      try checkDepth(.object(o))
      return .object(o)
    case .attribute(let base, let name):
      return try attribute(try eval(base), name)
    case .index(let base, let key):
      return try subscriptValue(try eval(base), try eval(key))
    case .slice(let base, let a, let b, let c):
      return try slice(
        try eval(base), try a.map { (x) throws(JinjaError) in try eval(x) }, try b.map { (x) throws(JinjaError) in try eval(x) },
        try c.map { (x) throws(JinjaError) in try eval(x) })
    case .call(let callee, let args, let kwargs):
      let f = try eval(callee)
      guard case .function(let fn) = f else {
        if case .name(let n) = callee { throw .runtime("'\(n)' is undefined or not callable") }
        throw .runtime("\(f.typeName) is not callable")
      }
      try charge()
      var a: [JinjaValue] = []
      for x in args { a.append(try eval(x)) }
      var k: [(String, JinjaValue)] = []
      for (n, x) in kwargs { k.append((n, try eval(x))) }
      return try fn.call(a, k)
    case .filter(let base, let name, let args, let kwargs):
      try charge()
      let v = try eval(base)
      var a: [JinjaValue] = []
      for x in args { a.append(try eval(x)) }
      var k: [(String, JinjaValue)] = []
      for (n, x) in kwargs { k.append((n, try eval(x))) }
      return try applyFilter(name, v, a, k)
    case .test(let base, let name, let args, let negated):
      let v = try eval(base)
      var a: [JinjaValue] = []
      for x in args { a.append(try eval(x)) }
      return .bool(try applyTest(name, v, a) != negated)
    case .not(let x): return .bool(!(try eval(x).truthy))
    case .negate(let x):
      switch try eval(x) {
      case .int(let i):
        guard i != .min else { throw .runtime("integer overflow") }
        return .int(-i)
      case .double(let d): return .double(-d)
      case let v: throw .runtime("cannot negate \(v.typeName)")
      }
    case .and(let a, let b):
      let x = try eval(a)
      return x.truthy ? try eval(b) : x
    case .or(let a, let b):
      let x = try eval(a)
      return x.truthy ? x : try eval(b)
    case .conditional(let then, let condition, let otherwise):
      if try eval(condition).truthy { return try eval(then) }
      return try otherwise.map { (x) throws(JinjaError) in try eval(x) } ?? .undefined
    case .binary(let op, let a, let b):
      return try binary(op, try eval(a), try eval(b))
    }
  }

  func attribute(_ base: JinjaValue, _ name: String) throws(JinjaError) -> JinjaValue {
    let base = base.plain
    switch base {
    case .object(let o):
      if let m = try method(base, name) { return m }
      return o[name] ?? .undefined
    case .namespace(let n): return n.members[name] ?? .undefined
    case .undefined: return .undefined
    default: return try method(base, name) ?? .undefined
    }
  }

  func subscriptValue(_ base: JinjaValue, _ key: JinjaValue) throws(JinjaError) -> JinjaValue {
    let base = base.plain
    let key = key.plain
    switch (base, key) {
    case (.object(let o), .string(let k)): return o[k] ?? .undefined
    case (.namespace(let n), .string(let k)): return n.members[k] ?? .undefined
    case (.array(let a), .int(let i)):
      let j = i < 0 ? a.count + i : i
      return j >= 0 && j < a.count ? a[j] : .undefined
    case (.string(let s), .int(let i)):
      let u = Array(s.unicodeScalars)
      let j = i < 0 ? u.count + i : i
      return j >= 0 && j < u.count ? .string(String(u[j])) : .undefined
    case (.undefined, _): return .undefined
    case (_, .string(let k)): return try attribute(base, k)
    default: return .undefined
    }
  }

  private func slice(_ base: JinjaValue, _ a: JinjaValue?, _ b: JinjaValue?, _ c: JinjaValue?) throws(JinjaError)
    -> JinjaValue
  {
    func int(_ v: JinjaValue?) throws(JinjaError) -> Int? {
      switch v {
      case nil, .none?: return nil
      case .int(let i)?: return i
      default: throw .runtime("slice indices must be integers")
      }
    }
    let base = base.plain
    let step = try int(c) ?? 1
    guard step != 0 else { throw .runtime("slice step cannot be zero") }
    func indices(_ n: Int) throws(JinjaError) -> [Int] {
      func clamp(_ v: Int?, _ def: Int) -> Int {
        guard var v else { return def }
        if v < 0 { v += n }
        return step > 0 ? min(max(v, 0), n) : min(max(v, -1), n - 1)
      }
      let start = clamp(try int(a), step > 0 ? 0 : n - 1)
      let end = clamp(try int(b), step > 0 ? n : -1)
      return Array(stride(from: start, to: end, by: step))
    }
    switch base {
    case .array(let items): return .array(try indices(items.count).map { items[$0] })
    case .string(let s):
      let u = Array(s.unicodeScalars)
      var out = String.UnicodeScalarView()
      for i in try indices(u.count) { out.append(u[i]) }
      return .string(String(out))
    case .undefined: return .undefined
    default: throw .runtime("cannot slice \(base.typeName)")
    }
  }

  func binary(_ op: String, _ a: JinjaValue, _ b: JinjaValue) throws(JinjaError) -> JinjaValue {
    // Markup + string escapes the plain side (markupsafe), autoescape or not.
    switch (op, a, b) {
    case ("+", .markup(let x), .string(let y)): return try binary(op, .string(x), .string(JinjaInterpreter.escapeHTML(y))).marked
    case ("+", .string(let x), .markup(let y)): return try binary(op, .string(JinjaInterpreter.escapeHTML(x)), .string(y)).marked
    case ("+", .markup(let x), .markup(let y)): return try binary(op, .string(x), .string(y)).marked
    default: break
    }
    let a = a.plain
    let b = b.plain
    switch op {
    case "==": return .bool(JinjaValue.equal(a, b))
    case "!=": return .bool(!JinjaValue.equal(a, b))
    case "<", ">", "<=", ">=":
      let (x, y) = op == "<" || op == ">=" ? (a, b) : (b, a)
      guard let lt = JinjaValue.less(x, y) else { throw .runtime("cannot compare \(a.typeName) with \(b.typeName)") }
      return .bool(op == "<" || op == ">" ? lt : !lt)
    case "in": return .bool(try contains(b, a))
    case "~":
      let s = a.text + b.text
      try charge(s.utf8.count >> 8)
      try checkSize(s.utf8.count)
      return .string(s)
    default: break
    }
    switch (a, b) {
    case (.int(let x), .int(let y)):
      switch op {
      case "+": return try checked(x.addingReportingOverflow(y))
      case "-": return try checked(x.subtractingReportingOverflow(y))
      case "*": return try checked(x.multipliedReportingOverflow(by: y))
      case "/":
        guard y != 0 else { throw .runtime("division by zero") }
        return .double(Double(x) / Double(y))
      case "//", "%":
        guard y != 0 else { throw .runtime("division by zero") }
        guard !(x == .min && y == -1) else { throw .runtime("integer overflow") }
        var q = x / y
        if (x % y != 0) && ((x < 0) != (y < 0)) { q -= 1 }
        return .int(op == "//" ? q : x - q * y)
      case "**":
        guard y >= 0 else { return .double(pow(Double(x), Double(y))) }
        var r = 1
        for _ in 0..<min(y, 64) {
          let (p, o) = r.multipliedReportingOverflow(by: x)
          if o { throw .runtime("integer overflow") }
          r = p
        }
        return y > 64 && x.magnitude > 1 ? try checked((0, true)) : .int(r)
      default: break
      }
    case (.string(let x), .string(let y)) where op == "+":
      try charge((x.utf8.count + y.utf8.count) >> 8)
      try checkSize(x.utf8.count + y.utf8.count)
      return .string(x + y)
    case (.array(let x), .array(let y)) where op == "+":
      try charge((x.count + y.count) >> 8)
      try checkSize(x.count + y.count)
      return .array(x + y)
    case (.string(let s), .int(let n)) where op == "*", (.int(let n), .string(let s)) where op == "*":
      try checkSize(s.utf8.count * max(0, min(n, limits.maxOutputBytes + 1)))
      try charge((s.utf8.count * max(0, n)) >> 8)
      return .string(String(repeating: s, count: max(0, n)))
    case (.array(let items), .int(let n)) where op == "*":
      try checkSize(items.count * max(0, min(n, limits.maxOutputBytes + 1)))
      var out: [JinjaValue] = []
      for _ in 0..<max(0, n) { out += items }
      return .array(out)
    default:
      break
    }
    if let x = a.asDouble, let y = b.asDouble, !(a.isBool || b.isBool) || op != "+" {
      switch op {
      case "+": return .double(x + y)
      case "-": return .double(x - y)
      case "*": return .double(x * y)
      case "/":
        guard y != 0 else { throw .runtime("division by zero") }
        return .double(x / y)
      case "//":
        guard y != 0 else { throw .runtime("division by zero") }
        return .double((x / y).rounded(.down))
      case "%":
        guard y != 0 else { throw .runtime("division by zero") }
        return .double(x - y * (x / y).rounded(.down))
      case "**": return .double(pow(x, y))
      default: break
      }
    }
    throw .runtime("unsupported operand types for \(op): \(a.typeName) and \(b.typeName)")
  }

  private func checked(_ r: (partialValue: Int, overflow: Bool)) throws(JinjaError) -> JinjaValue {
    if r.overflow { throw .runtime("integer overflow") }
    return .int(r.partialValue)
  }

  func contains(_ container: JinjaValue, _ item: JinjaValue) throws(JinjaError) -> Bool {
    let item = item.plain
    switch container.plain {
    case .string(let s):
      guard case .string(let sub) = item else { throw .runtime("'in <string>' needs a string on the left") }
      return sub.isEmpty || s.contains(sub)
    case .array(let a):
      try charge(a.count >> 8)
      return a.contains { JinjaValue.equal($0, item) }
    case .object(let o):
      if case .string(let k) = item { return o[k] != nil }
      return false
    case .namespace(let n):
      if case .string(let k) = item { return n.members[k] != nil }
      return false
    case .undefined: return false
    default: throw .runtime("argument of type \(container.typeName) is not iterable")
    }
  }
}

extension JinjaValue {
  /// A string result marked safe.
  var marked: JinjaValue {
    if case .string(let s) = self { return .markup(s) }
    return self
  }

  var isBool: Bool {
    if case .bool = self { return true }
    return false
  }
}
