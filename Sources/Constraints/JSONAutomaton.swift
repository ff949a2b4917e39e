/// The byte-level pushdown automaton behind `JSONConstraint`: a stack of frames, one per open
/// value, stepped one byte at a time against a compiled `JSONGrammar`.
///
/// Everything here works on raw pointers and plain structs so that the vocabulary walk can copy
/// and step states hundreds of thousands of times per token without allocating.
enum JSONAutomaton {
  enum FrameKind: UInt8 {
    case document, object, array, string, key, number, literal
  }

  /// One open value. 24 bytes; fields are interpreted per kind:
  /// - object: `phase` 0 after `{`, 1 in key, 2 before `:`, 3 before value, 4 after value,
  ///   5 after `,`; `prop` the current property (255 = an additional one); `seen` the properties used
  ///   or passed over: the ones up to the last named in the schema's order (`keyBefore`), all of them
  ///   once an additional property is named (those come last).
  /// - array: `phase` 0 after `[`, 1 after a value, 2 after `,`; `count` items started.
  /// - string/key: `aux` the escape/UTF-8 state; key: `lo..<hi` candidate properties, `pos` bytes matched.
  /// - number: `phase` as in `numberStep`, `count` bytes so far.
  /// - literal: `lo..<hi` candidate literals, `pos` bytes matched.
  /// - document: `phase` 0 before the value, 1 inside it, 2 after it.
  struct Frame {
    var node: Int32 = 0
    var kind: FrameKind
    var phase: UInt8 = 0
    var aux: UInt8 = 0
    var prop: UInt8 = 255
    var lo: UInt16 = 0
    var hi: UInt16 = 0
    var pos: UInt16 = 0
    var count: UInt16 = 0
    var seen: UInt64 = 0
  }

  /// Limits that keep the output finite and the model from idling.
  struct Limits {
    var maxDepth: Int
    var maxWhitespace: Int
    var maxNumberLength: Int
  }

  @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

  enum StringStep { case reject, accept, close }

  /// One byte inside a JSON string: escapes, no raw control characters, well-formed UTF-8
  /// (no overlongs or surrogates) and no `\u` surrogate escapes, so that any output decodes.
  @inline(__always) static func stringStep(_ aux: inout UInt8, _ b: UInt8) -> StringStep {
    switch aux {
    case 0:
      if b == 0x22 { return .close }
      if b == 0x5C {
        aux = 1
        return .accept
      }
      if b < 0x20 { return .reject }
      if b < 0x80 { return .accept }
      switch b {
      case 0xC2...0xDF: aux = 31
      case 0xE0: aux = 40
      case 0xED: aux = 41
      case 0xE1...0xEC, 0xEE, 0xEF: aux = 32
      case 0xF0: aux = 42
      case 0xF1...0xF3: aux = 33
      case 0xF4: aux = 43
      default: return .reject
      }
      return .accept
    case 1:
      switch b {
      case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: aux = 0
      case 0x75: aux = 14
      default: return .reject
      }
      return .accept
    case 14:
      if b == 0x64 || b == 0x44 {
        aux = 20
        return .accept
      }
      guard isHex(b) else { return .reject }
      aux = 13
      return .accept
    case 20:
      guard b >= 0x30 && b <= 0x37 else { return .reject }
      aux = 12
      return .accept
    case 11, 12, 13:
      guard isHex(b) else { return .reject }
      aux = aux == 11 ? 0 : aux - 1
      return .accept
    case 31, 32, 33:
      guard b >= 0x80 && b <= 0xBF else { return .reject }
      aux = aux == 31 ? 0 : aux - 1
      return .accept
    case 40:
      guard b >= 0xA0 && b <= 0xBF else { return .reject }
      aux = 31
    case 41:
      guard b >= 0x80 && b <= 0x9F else { return .reject }
      aux = 31
    case 42:
      guard b >= 0x90 && b <= 0xBF else { return .reject }
      aux = 32
    case 43:
      guard b >= 0x80 && b <= 0x8F else { return .reject }
      aux = 32
    default:
      return .reject
    }
    return .accept
  }

  @inline(__always) static func isHex(_ b: UInt8) -> Bool {
    (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46)
  }

  /// JSON number states: 0 start, 1 after `-`, 2 after a leading `0`, 3 integer digits, 4 after
  /// `.`, 5 fraction digits, 6 after `e`, 7 after the exponent sign, 8 exponent digits.
  /// Returns the next state or 255 when `b` cannot continue the number.
  @inline(__always) static func numberStep(_ state: UInt8, _ b: UInt8, integer: Bool) -> UInt8 {
    let digit = b >= 0x30 && b <= 0x39
    switch state {
    case 0: return b == 0x2D ? 1 : (b == 0x30 ? 2 : (digit ? 3 : 255))
    case 1: return b == 0x30 ? 2 : (digit ? 3 : 255)
    case 2, 3:
      if digit && state == 3 { return 3 }
      if integer { return 255 }
      if b == 0x2E { return 4 }
      if b == 0x65 || b == 0x45 { return 6 }
      return 255
    case 4, 5:
      if digit { return 5 }
      if state == 5 && (b == 0x65 || b == 0x45) { return 6 }
      return 255
    case 6: return b == 0x2B || b == 0x2D ? 7 : (digit ? 8 : 255)
    case 7, 8: return digit ? 8 : 255
    default: return 255
    }
  }

  @inline(__always) static func numberAccepts(_ state: UInt8) -> Bool {
    state == 2 || state == 3 || state == 5 || state == 8
  }

  /// Whether property `prop` of an object may be named next: it comes later in the schema than every
  /// property `seen` covers, and naming it skips no required property (`before`: its keyBefore).
  @inline(__always) static func isNext(
    _ prop: UInt8, _ before: UInt64, _ node: JSONGrammar.Node, _ seen: UInt64
  ) -> Bool {
    seen & (1 << UInt64(prop)) == 0 && node.required & before & ~seen == 0
  }

  /// Whether an additional property may be named next: the object allows them, and every required
  /// property has come (additional properties follow the declared ones).
  @inline(__always) static func additionalAllowed(_ node: JSONGrammar.Node, _ seen: UInt64) -> Bool {
    node.child >= 0 && node.required & ~seen == 0
  }

  /// Pops the finished top frame and tells its parent a value ended.
  @inline(__always) static func complete(_ f: UnsafeMutablePointer<Frame>, _ depth: inout Int) {
    depth -= 1
    let p = depth - 1
    switch f[p].kind {
    case .document: f[p].phase = 2
    case .object: f[p].phase = 4
    default: break
    }
  }

  /// Narrows literal candidates `lo..<hi` of `node` to those with byte `b` at `pos`.
  @inline(__always) static func narrow(
    _ t: JSONGrammar.Tables, _ spans: UnsafeMutablePointer<JSONGrammar.Span>, _ lo: UInt16, _ hi: UInt16,
    _ pos: UInt16, _ b: UInt8
  ) -> (UInt16, UInt16) {
    var newLo = hi
    var newHi = hi
    var i = lo
    while i < hi {
      let s = spans[Int(i)]
      if Int32(pos) < s.length && t.bytes[Int(s.start) + Int(pos)] == b {
        if newLo == hi { newLo = i }
        newHi = i + 1
      } else if newLo != hi {
        break  // sorted: the matches are contiguous
      }
      i += 1
    }
    return newLo == hi ? (0, 0) : (newLo, newHi)
  }

  /// Feeds one byte. On `false` the state is garbage and must be discarded by the caller.
  static func step(
    _ t: JSONGrammar.Tables, _ f: UnsafeMutablePointer<Frame>, _ depth: inout Int, _ ws: inout Int, _ b: UInt8,
    _ limits: Limits
  ) -> Bool {
    let space = isSpace(b)
    if !space { ws = 0 }
    @inline(__always) func takeSpace(_ ws: inout Int) -> Bool {
      guard ws < limits.maxWhitespace else { return false }
      ws += 1
      return true
    }
    while true {
      let top = depth - 1
      switch f[top].kind {
      case .document:
        guard f[top].phase == 0 else { return false }
        if space { return takeSpace(&ws) }
        f[top].phase = 1
        guard let pushed = start(t, f, &depth, t.root, b, limits) else { return false }
        if pushed { continue }
        return true

      case .object:
        let node = t.nodes[Int(f[top].node)]
        switch f[top].phase {
        case 0, 5:
          if space { return takeSpace(&ws) }
          if b == 0x22 {
            let all: UInt64 = node.count >= 64 ? ~0 : (1 << UInt64(node.count)) - 1
            guard depth < limits.maxDepth, node.child >= 0 || f[top].seen != all else { return false }
            f[top].phase = 1
            f[depth] = Frame(node: f[top].node, kind: .key, hi: UInt16(node.count))
            depth += 1
            return true
          }
          if b == 0x7D && f[top].phase == 0 && node.required & ~f[top].seen == 0 {
            complete(f, &depth)
            return true
          }
          return false
        case 2:
          if space { return takeSpace(&ws) }
          guard b == 0x3A else { return false }
          f[top].phase = 3
          return true
        case 3:
          if space { return takeSpace(&ws) }
          let prop = f[top].prop
          let valueNode = prop == 255 ? node.child : t.keyNodes[Int(node.start) + Int(prop)]
          guard let pushed = start(t, f, &depth, valueNode, b, limits) else { return false }
          if pushed { continue }
          return true
        default:  // 4: after a value
          if space { return takeSpace(&ws) }
          if b == 0x2C {
            let all: UInt64 = node.count >= 64 ? ~0 : (1 << UInt64(node.count)) - 1
            guard node.child >= 0 || f[top].seen != all else { return false }
            f[top].phase = 5
            return true
          }
          if b == 0x7D && node.required & ~f[top].seen == 0 {
            complete(f, &depth)
            return true
          }
          return false
        }

      case .key:
        let parent = top - 1
        let node = t.nodes[Int(f[parent].node)]
        switch stringStep(&f[top].aux, b) {
        case .reject: return false
        case .close:
          var prop: UInt8 = 255
          let lo = f[top].lo
          if lo < f[top].hi, t.keys[Int(node.start) + Int(lo)].length == Int32(f[top].pos) { prop = UInt8(lo) }
          let seen = f[parent].seen
          if prop != 255 {
            let before = t.keyBefore[Int(node.start) + Int(prop)]
            guard isNext(prop, before, node, seen) else { return false }
            f[parent].seen = seen | before | (1 << UInt64(prop))
          } else {
            guard additionalAllowed(node, seen) else { return false }
            f[parent].seen = ~0
          }
          depth -= 1
          f[parent].prop = prop
          f[parent].phase = 2
          return true
        case .accept:
          if f[top].lo < f[top].hi {
            let (lo, hi) = narrow(t, t.keys + Int(node.start), f[top].lo, f[top].hi, f[top].pos, b)
            f[top].lo = lo
            f[top].hi = hi
            f[top].pos += 1
          }
          if !additionalAllowed(node, f[parent].seen) {
            // Where no additional property may come, the name must still lead to a property that
            // may come next.
            let seen = f[parent].seen
            var i = f[top].lo
            while i < f[top].hi {
              if isNext(UInt8(i), t.keyBefore[Int(node.start) + Int(i)], node, seen) { return true }
              i += 1
            }
            return false
          }
          return true
        }

      case .array:
        let node = t.nodes[Int(f[top].node)]
        let phase = f[top].phase
        if space { return takeSpace(&ws) }
        if phase == 1 {
          if b == 0x2C && Int32(f[top].count) < node.maximum {
            f[top].phase = 2
            return true
          }
          if b == 0x5D && Int32(f[top].count) >= node.minimum {
            complete(f, &depth)
            return true
          }
          return false
        }
        if phase == 0 && b == 0x5D {
          guard node.minimum == 0 else { return false }
          complete(f, &depth)
          return true
        }
        guard Int32(f[top].count) < node.maximum else { return false }
        f[top].count += 1
        f[top].phase = 1
        guard let pushed = start(t, f, &depth, node.child, b, limits) else { return false }
        if pushed { continue }
        return true

      case .string:
        switch stringStep(&f[top].aux, b) {
        case .reject: return false
        case .accept: return true
        case .close:
          complete(f, &depth)
          return true
        }

      case .number:
        let integer = t.nodes[Int(f[top].node)].kind == .integer
        let next = numberStep(f[top].phase, b, integer: integer)
        if next != 255 {
          guard Int(f[top].count) < limits.maxNumberLength else { return false }
          // At most two exponent digits: with the length cap, every number stays a finite double.
          if next == 8 {
            guard f[top].aux < 2 else { return false }
            f[top].aux += 1
          }
          f[top].phase = next
          f[top].count += 1
          return true
        }
        guard numberAccepts(f[top].phase) else { return false }
        complete(f, &depth)
        continue  // the byte belongs to the enclosing value

      case .literal:
        let node = t.nodes[Int(f[top].node)]
        let spans = t.literals + Int(node.start)
        let (lo, hi) = narrow(t, spans, f[top].lo, f[top].hi, f[top].pos, b)
        if lo < hi {
          f[top].lo = lo
          f[top].hi = hi
          f[top].pos += 1
          if hi - lo == 1 && spans[Int(lo)].length == Int32(f[top].pos) { complete(f, &depth) }
          return true
        }
        // A literal that is a prefix of another (`1` and `12`) ends at the first other byte.
        guard f[top].lo < f[top].hi, spans[Int(f[top].lo)].length == Int32(f[top].pos) else { return false }
        complete(f, &depth)
        continue
      }
    }
  }

  /// Opens a value of `node` starting with byte `b`. Returns nil when `b` cannot start it, true
  /// when a frame was pushed that must still consume `b` (numbers, literals), false when the
  /// push consumed it (`{`, `[`, `"`).
  @inline(__always) static func start(
    _ t: JSONGrammar.Tables, _ f: UnsafeMutablePointer<Frame>, _ depth: inout Int, _ node: Int32, _ b: UInt8,
    _ limits: Limits
  ) -> Bool? {
    var index = node
    var n = t.nodes[Int(index)]
    // A container needs room for a key or scalar inside it, so that no state is a dead end.
    let room = b == 0x7B || b == 0x5B ? 2 : 1
    guard n.startsWith(b), depth + room <= limits.maxDepth else { return nil }
    while n.kind == .union {
      var found: Int32 = -1
      for k in 0..<Int(n.count) {
        let branch = t.branches[Int(n.start) + k]
        if t.nodes[Int(branch)].startsWith(b) {
          found = branch
          break
        }
      }
      guard found >= 0 else { return nil }
      index = found
      n = t.nodes[Int(index)]
    }
    switch n.kind {
    case .object:
      f[depth] = Frame(node: index, kind: .object)
    case .array:
      f[depth] = Frame(node: index, kind: .array)
    case .string:
      f[depth] = Frame(node: index, kind: .string)
    case .number, .integer:
      f[depth] = Frame(node: index, kind: .number)
      depth += 1
      return true
    case .literals:
      f[depth] = Frame(node: index, kind: .literal, hi: UInt16(n.count))
      depth += 1
      return true
    case .union:
      return nil
    }
    depth += 1
    return false
  }

  /// Whether the input may end here: the document is done, or only a number or literal that
  /// could also stop here is open.
  static func canEnd(_ t: JSONGrammar.Tables, _ frames: UnsafeMutablePointer<Frame>, _ depth: Int) -> Bool {
    let f = frames[depth - 1]
    switch f.kind {
    case .document: return f.phase == 2
    case .number: guard numberAccepts(f.phase) else { return false }
    case .literal:
      let spans = t.literals + Int(t.nodes[Int(f.node)].start)
      guard f.lo < f.hi, spans[Int(f.lo)].length == Int32(f.pos) else { return false }
    default: return false
    }
    // A root-level number or literal that could stop here.
    return depth == 2
  }
}
