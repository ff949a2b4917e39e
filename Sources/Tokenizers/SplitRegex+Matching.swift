/// Matching: a backtracking machine over `program`, driven like `std::regex_iterator`.
extension SplitRegex {
  /// Cuts `values[range]` as llama.cpp's regex split does: every match is a chunk, and so is every
  /// stretch between two matches (and before the first, after the last). Appends each chunk's end
  /// offset to `ends`. `stack` is scratch space reused across calls.
  func split(
    _ values: UnsafeBufferPointer<UInt32>, _ range: Range<Int>, into ends: inout [Int32], stack: inout [Int]
  ) {
    let lo = range.lowerBound
    let hi = range.upperBound
    var last = lo
    var cursor = lo
    // After an empty match, the next attempt at the same place must consume something.
    var notNullAt = -1
    sets.withUnsafeBufferPointer { sets in
      while cursor <= hi {
        var found = -1
        var end = -1
        var p = cursor
        while p <= hi {
          if let firstValues {
            // A match that cannot be empty cannot start at the end or on a value it never begins with.
            if p == hi { break }
            if !firstValues.contains(values[p]) {
              p += 1
              continue
            }
          }
          if let e = run(0, at: p, values, lo, hi, sets, &stack, notNull: p == notNullAt) {
            found = p
            end = e
            break
          }
          p += 1
        }
        guard found >= 0 else { break }
        if found > last { ends.append(Int32(found)) }
        if end > found { ends.append(Int32(end)) }
        last = end
        if end == found {
          notNullAt = found
        }
        cursor = end
      }
    }
    if last < hi { ends.append(Int32(hi)) }
  }

  /// Runs the program from `start` at position `position`; the end of the first match found, in
  /// ECMAScript's order (earlier alternatives and longer greedy repeats first).
  private func run(
    _ start: Int, at position: Int, _ values: UnsafeBufferPointer<UInt32>, _ lo: Int, _ hi: Int,
    _ sets: UnsafeBufferPointer<ValueSet>, _ stack: inout [Int], notNull: Bool = false
  ) -> Int? {
    let base = stack.count
    var pc = start
    var pos = position
    while true {
      var ok = false
      switch program[pc] {
      case .set(let i):
        if pos < hi && sets[i].contains(values[pos]) {
          pos += 1
          pc += 1
          ok = true
        }
      case .split(let first, let second):
        stack.append(second)
        stack.append(pos)
        pc = first
        ok = true
      case .jump(let target):
        pc = target
        ok = true
      case .lookahead(let negated, let next):
        let matched = run(pc + 1, at: pos, values, lo, hi, sets, &stack) != nil
        if matched != negated {
          pc = next
          ok = true
        }
      case .atStart:
        if pos == lo {
          pc += 1
          ok = true
        }
      case .atEnd:
        if pos == hi {
          pc += 1
          ok = true
        }
      case .wordBoundary(let wanted):
        let left = pos > lo && SplitRegex.isWord(values[pos - 1])
        let right = pos < hi && SplitRegex.isWord(values[pos])
        if (left != right) == wanted {
          pc += 1
          ok = true
        }
      case .match:
        if !(notNull && pos == position) {
          stack.removeSubrange(base...)
          return pos
        }
      }
      if ok { continue }
      guard stack.count > base else { return nil }
      pos = stack.removeLast()
      pc = stack.removeLast()
    }
  }

  @inline(__always)
  private static func isWord(_ v: UInt32) -> Bool {
    (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
  }
}
