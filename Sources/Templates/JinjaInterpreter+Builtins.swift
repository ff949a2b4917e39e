import Foundation

/// Globals, filters, tests and the Python methods chat templates call.
extension JinjaInterpreter {
  func installGlobals() {
    var g = scopes[0]
    func define(_ name: String, _ f: @escaping ([JinjaValue], [(String, JinjaValue)]) throws(JinjaError) -> JinjaValue) {
      if g[name] == nil { g[name] = .function(JinjaFunction(name: name, call: f)) }
    }
    define("raise_exception") { (args, _) throws(JinjaError) in
      throw .raised(args.first?.text ?? "the chat template raised an exception")
    }
    define("range") { [unowned self] (args, _) throws(JinjaError) in
      var ints: [Int] = []
      for a in args {
        guard case .int(let i) = a else { throw .runtime("range() needs integers") }
        ints.append(i)
      }
      let (start, end, step): (Int, Int, Int)
      switch ints.count {
      case 1: (start, end, step) = (0, ints[0], 1)
      case 2: (start, end, step) = (ints[0], ints[1], 1)
      case 3: (start, end, step) = (ints[0], ints[1], ints[2])
      default: throw .runtime("range() takes 1 to 3 arguments")
      }
      guard step != 0 else { throw .runtime("range() step must not be zero") }
      // In Double so that extreme bounds cannot overflow; the size cap keeps it exact enough.
      let span = step > 0 ? Double(end) - Double(start) : Double(start) - Double(end)
      let count = span <= 0 ? 0 : Int(min((span / Double(step.magnitude)).rounded(.up), 1e15))
      try self.checkSize(count)
      try self.charge(count >> 8)
      return .array(stride(from: start, to: end, by: step).map { .int($0) })
    }
    define("namespace") { [unowned self] (args, kwargs) throws(JinjaError) in
      self.namespaces += 1
      guard self.namespaces <= self.limits.maxNamespaces else {
        throw .limitExceeded("more than \(self.limits.maxNamespaces) namespaces")
      }
      let ns = JinjaNamespace()
      if case .object(let o)? = args.first { ns.members = o }
      for (k, v) in kwargs { ns.members[k] = v }
      try self.checkDepth(.object(ns.members))
      return .namespace(ns)
    }
    define("dict") { [unowned self] (args, kwargs) throws(JinjaError) in
      var o = JinjaObject()
      if case .object(let base)? = args.first { o = base }
      for (k, v) in kwargs { o[k] = v }
      try self.checkDepth(.object(o))
      return .object(o)
    }
    define("strftime_now") { (args, _) throws(JinjaError) in
      guard case .string(let format)? = args.first else { throw .runtime("strftime_now needs a format string") }
      return .string(JinjaInterpreter.strftime(format, Date()))
    }
    scopes[0] = g
  }

  /// The handful of `strftime` directives date-stamping templates (Llama 3.x) use, in UTC.
  static func strftime(_ format: String, _ date: Date) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
    let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
      "November", "December"]
    let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    func two(_ v: Int?) -> String { String(format: "%02d", v ?? 0) }
    var out = ""
    var percent = false
    for ch in format {
      guard percent else {
        if ch == "%" { percent = true } else { out.append(ch) }
        continue
      }
      percent = false
      let month = months[((c.month ?? 1) - 1) % 12]
      let day = days[((c.weekday ?? 1) - 1) % 7]
      switch ch {
      case "d": out += two(c.day)
      case "m": out += two(c.month)
      case "Y": out += String(c.year ?? 1970)
      case "y": out += two((c.year ?? 1970) % 100)
      case "H": out += two(c.hour)
      case "M": out += two(c.minute)
      case "S": out += two(c.second)
      case "b": out += String(month.prefix(3))
      case "B": out += month
      case "a": out += String(day.prefix(3))
      case "A": out += day
      case "%": out += "%"
      default: out += "%" + String(ch)
      }
    }
    return out
  }

  private func kwarg(_ kwargs: [(String, JinjaValue)], _ name: String) -> JinjaValue? {
    kwargs.last { $0.0 == name }?.1
  }

  private func string(_ v: JinjaValue, _ what: String) throws(JinjaError) -> String {
    guard case .string(let s) = v else { throw .runtime("\(what) needs a string, got \(v.typeName)") }
    return s
  }

  /// A bound method of `base`, or nil when it has none by that name.
  func method(_ base: JinjaValue, _ name: String) throws(JinjaError) -> JinjaValue? {
    func bound(_ f: @escaping ([JinjaValue]) throws(JinjaError) -> JinjaValue) -> JinjaValue {
      .function(JinjaFunction(name: name) { (args, _) throws(JinjaError) in try f(args) })
    }
    switch base {
    case .string(let s):
      func chars(_ args: [JinjaValue]) -> Set<Character>? {
        if case .string(let c)? = args.first { return Set(c) }
        return nil
      }
      switch name {
      case "strip":
        return bound { (a) throws(JinjaError) in .string(JinjaInterpreter.strip(s, chars(a), leading: true, trailing: true)) }
      case "lstrip":
        return bound { (a) throws(JinjaError) in .string(JinjaInterpreter.strip(s, chars(a), leading: true, trailing: false)) }
      case "rstrip":
        return bound { (a) throws(JinjaError) in .string(JinjaInterpreter.strip(s, chars(a), leading: false, trailing: true)) }
      case "upper": return bound { _ in .string(s.uppercased()) }
      case "lower": return bound { _ in .string(s.lowercased()) }
      case "title": return bound { _ in .string(s.capitalized) }
      case "capitalize": return bound { _ in .string(s.prefix(1).uppercased() + s.dropFirst().lowercased()) }
      case "startswith", "endswith":
        return bound { [unowned self] (a) throws(JinjaError) in
          var options: [String] = []
          switch a.first {
          case .string(let p)?: options = [p]
          case .array(let list)?: for p in list { options.append(try self.string(p, name)) }
          default: throw .runtime("\(name) needs a string")
          }
          return .bool(options.contains { name == "startswith" ? s.hasPrefix($0) : s.hasSuffix($0) })
        }
      case "split", "rsplit":
        return bound { (a) throws(JinjaError) in
          var limit = -1
          if a.count > 1, case .int(let m) = a[1] { limit = m }
          let parts: [String]
          if case .string(let sep)? = a.first {
            guard !sep.isEmpty else { throw .runtime("empty separator") }
            parts = JinjaInterpreter.split(s, sep, limit: limit, fromRight: name == "rsplit")
          } else {
            parts = s.split(whereSeparator: \.isWhitespace).map(String.init)
          }
          return .array(parts.map { .string($0) })
        }
      case "replace":
        return bound { [unowned self] (a) throws(JinjaError) in
          guard a.count >= 2 else { throw .runtime("replace needs two arguments") }
          let out = s.replacingOccurrences(of: try self.string(a[0], name), with: try self.string(a[1], name))
          try self.checkSize(out.utf8.count)
          return .string(out)
        }
      case "find":
        return bound { [unowned self] (a) throws(JinjaError) in
          let sub = try self.string(a.first ?? .undefined, name)
          guard let r = s.range(of: sub) else { return .int(-1) }
          return .int(s.unicodeScalars.distance(from: s.startIndex, to: r.lowerBound))
        }
      case "count":
        return bound { [unowned self] (a) throws(JinjaError) in
          let sub = try self.string(a.first ?? .undefined, name)
          return .int(sub.isEmpty ? s.unicodeScalars.count + 1 : s.components(separatedBy: sub).count - 1)
        }
      case "join":
        return bound { [unowned self] (a) throws(JinjaError) in
          .string(try self.iterate(a.first ?? .undefined).map(\.text).joined(separator: s))
        }
      case "isdigit": return bound { _ in .bool(!s.isEmpty && s.allSatisfy(\.isNumber)) }
      case "isspace": return bound { _ in .bool(!s.isEmpty && s.allSatisfy(\.isWhitespace)) }
      default: return nil
      }
    case .object(let o):
      switch name {
      case "items": return bound { _ in .array(o.keys.map { .array([.string($0), o.values[$0]!]) }) }
      case "keys": return bound { _ in .array(o.keys.map { .string($0) }) }
      case "values": return bound { _ in .array(o.keys.map { o.values[$0]! }) }
      case "get":
        return bound { (a) throws(JinjaError) in
          guard case .string(let k)? = a.first else { return a.count > 1 ? a[1] : .none }
          return o[k] ?? (a.count > 1 ? a[1] : .none)
        }
      default: return nil
      }
    default:
      return nil
    }
  }

  static func strip(_ s: String, _ chars: Set<Character>?, leading: Bool, trailing: Bool) -> String {
    let drop: (Character) -> Bool = { chars?.contains($0) ?? $0.isWhitespace }
    var sub = Substring(s)
    if leading { sub = sub.drop(while: drop) }
    if trailing {
      while let last = sub.last, drop(last) { sub = sub.dropLast() }
    }
    return String(sub)
  }

  static func split(_ s: String, _ sep: String, limit: Int, fromRight: Bool) -> [String] {
    let all = s.components(separatedBy: sep)
    guard limit >= 0, all.count - 1 > limit else { return all }
    if fromRight {
      return [all[..<(all.count - limit)].joined(separator: sep)] + all[(all.count - limit)...]
    }
    return Array(all[..<limit]) + [all[limit...].joined(separator: sep)]
  }

  // MARK: Filters

  func applyFilter(_ name: String, _ v: JinjaValue, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)])
    throws(JinjaError) -> JinjaValue
  {
    switch name {
    case "trim":
      return .string(JinjaInterpreter.strip(v.text, nil, leading: true, trailing: true))
    case "upper": return .string(v.text.uppercased())
    case "lower": return .string(v.text.lowercased())
    case "capitalize": return .string(v.text.prefix(1).uppercased() + v.text.dropFirst().lowercased())
    case "title": return .string(v.text.capitalized)
    case "string": return .string(v.text)
    case "safe":
      // Autoescape is off, so marking text safe changes nothing.
      return v
    case "escape", "e", "forceescape":
      var out = ""
      for c in v.text {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&#34;"
        case "'": out += "&#39;"
        default: out.append(c)
        }
      }
      return .string(out)
    case "tojson":
      var indent: Int?
      if case .int(let i)? = kwarg(kwargs, "indent") ?? args.first { indent = i }
      let s = try v.json(indent: indent)
      try checkSize(s.utf8.count)
      return .string(s)
    case "length", "count":
      switch v {
      case .string(let s): return .int(s.unicodeScalars.count)
      case .array(let a): return .int(a.count)
      case .object(let o): return .int(o.keys.count)
      case .undefined: return .int(0)
      default: throw .runtime("object of type \(v.typeName) has no length")
      }
    case "default", "d":
      let useFalsy = (kwarg(kwargs, "boolean") ?? (args.count > 1 ? args[1] : .bool(false))).truthy
      if v.isUndefined || (useFalsy && !v.truthy) { return args.first ?? .string("") }
      return v
    case "join":
      let sep = args.first?.text ?? kwarg(kwargs, "d")?.text ?? ""
      var items = try iterate(v)
      if case .string(let attr)? = kwarg(kwargs, "attribute") {
        items = try items.map { (x) throws(JinjaError) in try attribute(x, attr) }
      }
      let s = items.map(\.text).joined(separator: sep)
      try checkSize(s.utf8.count)
      return .string(s)
    case "first":
      return try iterate(v).first ?? .undefined
    case "last":
      return try iterate(v).last ?? .undefined
    case "list":
      return .array(try iterate(v))
    case "reverse":
      if case .string(let s) = v { return .string(String(s.reversed())) }
      return .array(try iterate(v).reversed())
    case "unique":
      var out: [JinjaValue] = []
      for x in try iterate(v) {
        try charge(1 + out.count >> 8)  // quadratic: each item is compared with those kept
        if !out.contains(where: { JinjaValue.equal($0, x) }) { out.append(x) }
      }
      return .array(out)
    case "sort":
      var items = try iterate(v)
      try charge(items.count * (Int.bitWidth - items.count.leadingZeroBitCount) >> 8)
      let attr = kwarg(kwargs, "attribute")?.text
      let reverse = kwarg(kwargs, "reverse")?.truthy ?? false
      var failure: JinjaError?
      items.sort { a, b in
        do {
          let x = try attr.map { (k) throws(JinjaError) in try attribute(a, k) } ?? a
          let y = try attr.map { (k) throws(JinjaError) in try attribute(b, k) } ?? b
          guard let lt = JinjaValue.less(reverse ? y : x, reverse ? x : y) else {
            failure = .runtime("cannot sort \(x.typeName) with \(y.typeName)")
            return false
          }
          return lt
        } catch {
          failure = (error as? JinjaError) ?? .runtime("sort failed")
          return false
        }
      }
      if let failure { throw failure }
      return .array(items)
    case "items":
      guard case .object(let o) = v else {
        if v.isUndefined { return .array([]) }
        throw .runtime("items needs a mapping, got \(v.typeName)")
      }
      return .array(o.keys.map { .array([.string($0), o.values[$0]!]) })
    case "dictsort":
      guard case .object(let o) = v else { throw .runtime("dictsort needs a mapping") }
      return .array(o.keys.sorted().map { .array([.string($0), o.values[$0]!]) })
    case "replace":
      guard args.count >= 2 else { throw .runtime("replace needs two arguments") }
      let out = v.text.replacingOccurrences(of: args[0].text, with: args[1].text)
      try checkSize(out.utf8.count)
      return .string(out)
    case "int":
      switch v {
      case .int: return v
      case .double(let d): return d.isFinite && abs(d) < 9e18 ? .int(Int(d)) : .int(0)
      case .bool(let b): return .int(b ? 1 : 0)
      case .string(let s):
        let t = s.trimmingCharacters(in: .whitespaces)
        if let i = Int(t) { return .int(i) }
        if let d = Double(t), d.isFinite, abs(d) < 9e18 { return .int(Int(d)) }
        return args.first ?? .int(0)
      default: return args.first ?? .int(0)
      }
    case "float":
      if let d = v.asDouble { return .double(d) }
      if case .string(let s) = v, let d = Double(s.trimmingCharacters(in: .whitespaces)) { return .double(d) }
      return .double(0)
    case "abs":
      if case .int(let i) = v, i != .min { return .int(abs(i)) }
      if let d = v.asDouble { return .double(abs(d)) }
      throw .runtime("abs needs a number")
    case "round":
      guard let d = v.asDouble else { throw .runtime("round needs a number") }
      var precision = 0
      if case .int(let p)? = args.first { precision = min(max(p, 0), 15) }
      let scale = pow(10.0, Double(precision))
      return .double((d * scale).rounded(.toNearestOrEven) / scale)
    case "indent":
      var width = 4
      if case .int(let w)? = args.first ?? kwarg(kwargs, "width") { width = min(max(w, 0), 64) }
      let first = (kwarg(kwargs, "first") ?? (args.count > 1 ? args[1] : .bool(false))).truthy
      let pad = String(repeating: " ", count: width)
      let lines = v.text.components(separatedBy: "\n")
      let out = lines.enumerated().map { i, l in (i == 0 && !first) || l.isEmpty ? l : pad + l }.joined(separator: "\n")
      try checkSize(out.utf8.count)
      return .string(out)
    case "map":
      let items = try iterate(v)
      if case .string(let attr)? = kwarg(kwargs, "attribute") {
        let fallback = kwarg(kwargs, "default")
        return .array(
          try items.map { (x) throws(JinjaError) in
            let a = try attribute(x, attr)
            return a.isUndefined ? fallback ?? a : a
          })
      }
      guard case .string(let filterName)? = args.first else { throw .runtime("map needs a filter name or attribute=") }
      return .array(
        try items.map { (x) throws(JinjaError) in try applyFilter(filterName, x, Array(args.dropFirst()), []) })
    case "select", "reject", "selectattr", "rejectattr":
      let byAttribute = name.hasSuffix("attr")
      let keep = name.hasPrefix("select")
      var rest = args
      var attr: String?
      if byAttribute {
        guard case .string(let a)? = rest.first else { throw .runtime("\(name) needs an attribute name") }
        attr = a
        rest.removeFirst()
      }
      var out: [JinjaValue] = []
      for item in try iterate(v) {
        try charge()
        let subject = try attr.map { (k) throws(JinjaError) in try attribute(item, k) } ?? item
        let passes: Bool
        if case .string(let testName)? = rest.first {
          passes = try applyTest(testName, subject, Array(rest.dropFirst()))
        } else {
          passes = subject.truthy
        }
        if passes == keep { out.append(item) }
      }
      return .array(out)
    case "batch", "slice", "wordwrap", "truncate", "urlencode", "format", "xmlattr", "filesizeformat", "pprint":
      throw .runtime("the filter '\(name)' is not supported")
    default:
      throw .runtime("no filter named '\(name)'")
    }
  }

  // MARK: Tests

  func applyTest(_ name: String, _ v: JinjaValue, _ args: [JinjaValue]) throws(JinjaError) -> Bool {
    switch name {
    case "defined": return !v.isUndefined
    case "undefined": return v.isUndefined
    case "none": return v.isNone
    case "string": if case .string = v { return true } else { return false }
    case "number": return (v.asDouble != nil) && !v.isBool
    case "integer": if case .int = v { return true } else { return false }
    case "float": if case .double = v { return true } else { return false }
    case "boolean": return v.isBool
    case "true": if case .bool(true) = v { return true } else { return false }
    case "false": if case .bool(false) = v { return true } else { return false }
    case "mapping": if case .object = v { return true } else { return false }
    case "sequence":
      switch v {
      case .string, .array, .object: return true
      default: return false
      }
    case "iterable":
      switch v {
      case .string, .array, .object, .namespace: return true
      default: return false
      }
    case "callable": if case .function = v { return true } else { return false }
    case "equalto", "eq", "==", "sameas": return JinjaValue.equal(v, args.first ?? .undefined)
    case "ne", "!=": return !JinjaValue.equal(v, args.first ?? .undefined)
    case "lt", "<", "gt", ">", "le", "<=", "ge", ">=":
      let op = ["lt": "<", "gt": ">", "le": "<=", "ge": ">="][name] ?? name
      return try binary(op, v, args.first ?? .undefined).truthy
    case "in": return try contains(args.first ?? .undefined, v)
    case "odd", "even", "divisibleby":
      guard case .int(let i) = v else { throw .runtime("\(name) needs an integer") }
      if name == "odd" { return i % 2 != 0 }
      if name == "even" { return i % 2 == 0 }
      guard case .int(let d)? = args.first, d != 0 else { throw .runtime("divisibleby needs a non-zero integer") }
      return i % d == 0
    case "lower": return v.text == v.text.lowercased()
    case "upper": return v.text == v.text.uppercased()
    default: throw .runtime("no test named '\(name)'")
    }
  }
}
