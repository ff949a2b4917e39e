/// Cuts text into literal runs and special tokens before any pre-tokenization, the way
/// llama.cpp's `tokenizer_st_partition` does: special tokens are tried longest text first, each
/// one replacing all its non-overlapping occurrences in the text that is still unclaimed.
struct SpecialTokenMatcher: Sendable {
  private struct Entry: Sendable {
    var id: Int32
    var bytes: [UInt8]
    /// User-defined tokens are matched even when the caller does not parse special tokens.
    var alwaysMatched: Bool
    /// ASCII whitespace after the token is dropped (llama.cpp's `rstrip` attribute).
    var stripsRight: Bool
  }

  /// A piece of the partitioned input.
  enum Fragment: Equatable {
    /// Byte range of literal text in the input.
    case text(Range<Int>)
    case token(Int32)
  }

  /// Longest first; ties by id so the order is deterministic.
  private let entries: [Entry]
  /// Entry indices in byte-wise lexicographic order of their text, so the entries that start a
  /// text at some position are found by narrowing one range byte by byte. (Gemma has 6k control
  /// tokens, nearly all starting "<unused": trying each one at every "<" made HTML crawl.)
  private let lexicographic: [Int]

  init(tokens: [String], types: [TokenType], rightStripped: Set<Int32> = []) {
    var list: [Entry] = []
    for (i, type) in types.enumerated() {
      guard type == .control || type == .userDefined || type == .unknown else { continue }
      let bytes = Array(tokens[i].utf8)
      guard !bytes.isEmpty else { continue }
      list.append(
        Entry(
          id: Int32(i), bytes: bytes, alwaysMatched: type == .userDefined, stripsRight: rightStripped.contains(Int32(i))))
    }
    list.sort { a, b in
      a.bytes.count != b.bytes.count ? a.bytes.count > b.bytes.count : a.id < b.id
    }
    entries = list
    // Equal texts keep entry order, as the replacement below expects.
    lexicographic = list.indices.sorted { a, b in
      list[a].bytes == list[b].bytes ? a < b : list[a].bytes.lexicographicallyPrecedes(list[b].bytes)
    }
  }

  func partition(_ text: [UInt8], parseSpecial: Bool) -> [Fragment] {
    var fragments: [Fragment] = text.isEmpty ? [] : [.text(0..<text.count)]
    guard !entries.isEmpty, !text.isEmpty else { return fragments }

    // Which specials occur anywhere at all; most texts contain none, so this one scan is
    // usually all the work done.
    var seen = [Bool](repeating: false, count: entries.count)
    var present: [Int] = []
    for p in 0..<text.count {
      forEachEntry(startingAt: p, in: text) { e in
        guard !seen[e], parseSpecial || entries[e].alwaysMatched else { return }
        seen[e] = true
        present.append(e)
      }
    }
    guard !present.isEmpty else { return fragments }
    present.sort()

    for e in present {
      let entry = entries[e]
      var next: [Fragment] = []
      next.reserveCapacity(fragments.count + 2)
      for fragment in fragments {
        guard case .text(let range) = fragment else {
          next.append(fragment)
          continue
        }
        var start = range.lowerBound
        var p = range.lowerBound
        let last = range.upperBound - entry.bytes.count
        while p <= last {
          if matches(entry.bytes, in: text, at: p, end: range.upperBound) {
            if start < p { next.append(.text(start..<p)) }
            next.append(.token(entry.id))
            p += entry.bytes.count
            if entry.stripsRight {
              while p < range.upperBound && SpecialTokenMatcher.isSpace(text[p]) { p += 1 }
            }
            start = p
          } else {
            p += 1
          }
        }
        if start < range.upperBound { next.append(.text(start..<range.upperBound)) }
      }
      fragments = next
    }
    return fragments
  }

  /// Calls `body` with every entry whose text occurs in `text` at `p`, shortest first.
  ///
  /// In lexicographic order the entries sharing the text's first k bytes form one range, and
  /// within it an entry exactly k bytes long sorts first; each further byte narrows the range
  /// by two binary searches, and the walk ends as soon as it is empty.
  private func forEachEntry(startingAt p: Int, in text: [UInt8], _ body: (Int) -> Void) {
    var lower = 0
    var upper = lexicographic.count
    var k = 0
    while lower < upper && p + k < text.count {
      let c = Int(text[p + k])
      // Byte k of an entry, or -1 if it is no longer than k (those sort before the rest).
      func key(_ i: Int) -> Int {
        let bytes = entries[lexicographic[i]].bytes
        return bytes.count > k ? Int(bytes[k]) : -1
      }
      lower = partitionPoint(lower, upper) { key($0) >= c }
      upper = partitionPoint(lower, upper) { key($0) > c }
      k += 1
      // Entries exactly k bytes long match here; more than one only if texts repeat.
      var i = lower
      while i < upper && entries[lexicographic[i]].bytes.count == k {
        body(lexicographic[i])
        i += 1
      }
    }
  }

  /// First index in `lower..<upper` where `isAtOrPast` holds (it must be monotonic there).
  @inline(__always)
  private func partitionPoint(_ lower: Int, _ upper: Int, _ isAtOrPast: (Int) -> Bool) -> Int {
    var lo = lower
    var hi = upper
    while lo < hi {
      let mid = (lo + hi) / 2
      if isAtOrPast(mid) { hi = mid } else { lo = mid + 1 }
    }
    return lo
  }

  /// C's `isspace` in the C locale.
  @inline(__always)
  static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }

  @inline(__always)
  private func matches(_ needle: [UInt8], in text: [UInt8], at p: Int, end: Int) -> Bool {
    guard p + needle.count <= end else { return false }
    for k in 0..<needle.count where text[p + k] != needle[k] { return false }
    return true
  }
}
