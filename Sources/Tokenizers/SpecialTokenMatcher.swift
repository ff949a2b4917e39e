/// Cuts text into literal runs and special tokens before any pre-tokenization, the way
/// llama.cpp's `tokenizer_st_partition` does: special tokens are tried longest text first, each
/// one replacing all its non-overlapping occurrences in the text that is still unclaimed.
struct SpecialTokenMatcher: Sendable {
  private struct Entry: Sendable {
    var id: Int32
    var bytes: [UInt8]
    /// User-defined tokens are matched even when the caller does not parse special tokens.
    var alwaysMatched: Bool
  }

  /// A piece of the partitioned input.
  enum Fragment: Equatable {
    /// Byte range of literal text in the input.
    case text(Range<Int>)
    case token(Int32)
  }

  /// Longest first; ties by id so the order is deterministic.
  private let entries: [Entry]
  /// Entry indices by their first byte, to find which specials occur in a text in one pass.
  private let byFirstByte: [[Int]]

  init(tokens: [String], types: [TokenType]) {
    var list: [Entry] = []
    for (i, type) in types.enumerated() {
      guard type == .control || type == .userDefined || type == .unknown else { continue }
      let bytes = Array(tokens[i].utf8)
      guard !bytes.isEmpty else { continue }
      list.append(Entry(id: Int32(i), bytes: bytes, alwaysMatched: type == .userDefined))
    }
    list.sort { a, b in
      a.bytes.count != b.bytes.count ? a.bytes.count > b.bytes.count : a.id < b.id
    }
    entries = list
    var index = [[Int]](repeating: [], count: 256)
    for (i, e) in list.enumerated() { index[Int(e.bytes[0])].append(i) }
    byFirstByte = index
  }

  func partition(_ text: [UInt8], parseSpecial: Bool) -> [Fragment] {
    var fragments: [Fragment] = text.isEmpty ? [] : [.text(0..<text.count)]
    guard !entries.isEmpty, !text.isEmpty else { return fragments }

    // Which specials occur anywhere at all; most texts contain none, so this one scan is
    // usually all the work done.
    var present: [Int] = []
    var seen = Set<Int>()
    for p in 0..<text.count {
      for e in byFirstByte[Int(text[p])] where !seen.contains(e) {
        let entry = entries[e]
        guard parseSpecial || entry.alwaysMatched else { continue }
        if matches(entry.bytes, in: text, at: p, end: text.count) {
          seen.insert(e)
          present.append(e)
        }
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

  @inline(__always)
  private func matches(_ needle: [UInt8], in text: [UInt8], at p: Int, end: Int) -> Bool {
    guard p + needle.count <= end else { return false }
    for k in 0..<needle.count where text[p + k] != needle[k] { return false }
    return true
  }
}
