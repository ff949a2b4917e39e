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
    define("strftime_now") { [unowned self] (args, _) throws(JinjaError) in
      guard case .string(let format)? = args.first else { throw .runtime("strftime_now needs a format string") }
      return .string(JinjaInterpreter.strftime(format, self.now))
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

  func kwarg(_ kwargs: [(String, JinjaValue)], _ name: String) -> JinjaValue? {
    kwargs.last { $0.0 == name }?.1
  }

  private func string(_ v: JinjaValue, _ what: String) throws(JinjaError) -> String {
    guard case .string(let s) = v.plain else { throw .runtime("\(what) needs a string, got \(v.typeName)") }
    return s
  }

  /// A bound method of `base`, or nil when it has none by that name.
  func method(_ base: JinjaValue, _ name: String) throws(JinjaError) -> JinjaValue? {
    let base = base.plain
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

  // MARK: Tests

  func applyTest(_ name: String, _ v: JinjaValue, _ args: [JinjaValue]) throws(JinjaError) -> Bool {
    let v = v.plain
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
