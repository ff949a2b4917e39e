import Foundation

/// The filters (`value | name(args)`) chat templates use, with jinja2's behaviour.
extension JinjaInterpreter {
  // MARK: Filters

  func applyFilter(_ name: String, _ value: JinjaValue, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)])
    throws(JinjaError) -> JinjaValue
  {
    let v = value.plain
    switch name {
    case "trim":
      return .string(JinjaInterpreter.strip(v.text, nil, leading: true, trailing: true))
    case "upper": return .string(v.text.uppercased())
    case "lower": return .string(v.text.lowercased())
    case "capitalize": return .string(v.text.prefix(1).uppercased() + v.text.dropFirst().lowercased())
    case "title": return .string(v.text.capitalized)
    case "string":
      // Markup stays Markup (jinja2's soft_str).
      if case .markup = value { return value }
      return .string(v.text)
    case "safe":
      if case .markup = value { return value }
      return .markup(v.text)
    case "escape", "e":
      if case .markup = value { return value }
      return .markup(JinjaInterpreter.escapeHTML(v.text))
    case "forceescape":
      return .markup(JinjaInterpreter.escapeHTML(v.text))
    case "tojson":
      let s = try v.json(try jsonStyle(args, kwargs))
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
      return value
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
      // jinja2 maps and selects over nothing when given a false value (none, "", []).
      guard v.truthy else { return .array([]) }
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
      for item in v.truthy ? try iterate(v) : [] {
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


  /// `tojson`'s arguments as HF transformers declares them and passes them to `json.dumps`:
  /// `(ensure_ascii=False, indent=None, separators=None, sort_keys=False)`, by keyword or position.
  private func jsonStyle(_ args: [JinjaValue], _ kwargs: [(String, JinjaValue)]) throws(JinjaError) -> JSONStyle {
    let names = ["ensure_ascii", "indent", "separators", "sort_keys"]
    func argument(_ name: String) -> JinjaValue? {
      kwarg(kwargs, name) ?? (args.count > names.firstIndex(of: name)! ? args[names.firstIndex(of: name)!] : nil)
    }
    var indent: String?
    switch argument("indent")?.plain {
    case .int(let n)?: indent = String(repeating: " ", count: min(max(n, 0), 64))
    case .string(let s)?: indent = s
    case nil, .none?, .undefined?: indent = nil
    case let other?: throw .runtime("tojson indent must be an integer, got \(other.typeName)")
    }
    var separators: (String, String)?
    if case .array(let pair)? = argument("separators")?.plain {
      guard pair.count == 2 else { throw .runtime("tojson separators must be a pair of strings") }
      separators = (pair[0].text, pair[1].text)
    }
    let ensureASCII = argument("ensure_ascii")?.truthy ?? false
    return JSONStyle(
      indent: indent, ensureASCII: ensureASCII, sortKeys: argument("sort_keys")?.truthy ?? false,
      separators: separators)
  }

  /// markupsafe's escape.
  static func escapeHTML(_ s: String) -> String {
    var out = ""
    for c in s.unicodeScalars {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&#34;"
      case "'": out += "&#39;"
      default: out.unicodeScalars.append(c)
      }
    }
    return out
  }
}
