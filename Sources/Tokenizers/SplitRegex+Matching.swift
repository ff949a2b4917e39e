/// Scratch space for matching, reused across calls.
struct SplitRegexScratch {
  /// Backtracking stack: (op, position) pairs.
  var stack: [Int] = []
  /// Failure memo: `memo[slot * (chunk length + 1) + offset] == generation` means the loop at
  /// that slot already failed from that position.
  var memo: [UInt32] = []
  var generation: UInt32 = 0
}

/// Matching: a backtracking machine over `program`, driven like `std::regex_iterator`.
extension SplitRegex {
  /// Memo cells allowed per chunk; longer chunks match without the memo.
  static let memoLimit = 1 << 25

  /// Cuts `values[range]` as llama.cpp's regex split does: every match is a chunk, and so is every
  /// stretch between two matches (and before the first, after the last). Appends each chunk's end
  /// offset to `ends`.
  ///
  /// Backtracking alone can be quadratic: `\s+$` tried at each of n spaces that are followed by
  /// something else runs its loop to the end of the run every time. So each unbounded loop outside
  /// a lookahead remembers the positions it has already failed from. That is exact: with no
  /// backreferences and no loop that can match empty, whether the rest of the pattern matches
  /// from (op, position) does not depend on how the machine got there, and depth-first search
  /// reaches such a state a second time only after the first visit failed. A success invalidates
  /// the memo (its path was marked but did not fail).
  func split(
    _ values: UnsafeBufferPointer<UInt32>, _ range: Range<Int>, into ends: inout [Int32], scratch: inout SplitRegexScratch
  ) {
    let lo = range.lowerBound
    let hi = range.upperBound
    let stride = hi - lo + 1
    let memoized = memoSlots > 0 && stride * memoSlots <= SplitRegex.memoLimit && stride > 16
    if memoized {
      if scratch.memo.count < stride * memoSlots {
        scratch.memo = [UInt32](repeating: 0, count: stride * memoSlots)
        scratch.generation = 0
      }
      nextGeneration(&scratch)
    }
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
          let e = run(0, at: p, values, lo, hi, sets, &scratch, memo: memoized ? stride : 0, notNull: p == notNullAt)
          if let e {
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
        if end == found { notNullAt = found }
        cursor = end
        if memoized { nextGeneration(&scratch) }
      }
    }
    if last < hi { ends.append(Int32(hi)) }
  }

  private func nextGeneration(_ scratch: inout SplitRegexScratch) {
    if scratch.generation == .max {
      for i in scratch.memo.indices { scratch.memo[i] = 0 }
      scratch.generation = 0
    }
    scratch.generation += 1
  }

  /// Runs the program from `start` at position `position`; the end of the first match found, in
  /// ECMAScript's order (earlier alternatives and longer greedy repeats first).
  /// - Parameter memo: the memo's row length, or 0 to run without it.
  private func run(
    _ start: Int, at position: Int, _ values: UnsafeBufferPointer<UInt32>, _ lo: Int, _ hi: Int,
    _ sets: UnsafeBufferPointer<ValueSet>, _ scratch: inout SplitRegexScratch, memo: Int, notNull: Bool = false
  ) -> Int? {
    let base = scratch.stack.count
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
        ok = true
        if memo > 0, memoSlot[pc] >= 0 {
          let cell = Int(memoSlot[pc]) * memo + (pos - lo)
          if scratch.memo[cell] == scratch.generation {
            ok = false
          } else {
            scratch.memo[cell] = scratch.generation
          }
        }
        if ok {
          scratch.stack.append(second)
          scratch.stack.append(pos)
          pc = first
        }
      case .jump(let target):
        pc = target
        ok = true
      case .lookahead(let negated, let next):
        let matched = run(pc + 1, at: pos, values, lo, hi, sets, &scratch, memo: 0) != nil
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
          scratch.stack.removeSubrange(base...)
          return pos
        }
      }
      if ok { continue }
      guard scratch.stack.count > base else { return nil }
      pos = scratch.stack.removeLast()
      pc = scratch.stack.removeLast()
    }
  }

  @inline(__always)
  private static func isWord(_ v: UInt32) -> Bool {
    (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
  }
}
