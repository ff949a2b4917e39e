/// Token text → id, keyed by the text's UTF-8 bytes.
///
/// A 262k-token vocabulary as a `[String: Int32]` costs one String hash per token at load and a
/// String per lookup while encoding. Here every token's bytes sit back to back in one array and an
/// open-addressing table of ids is probed with a byte hash, so building it is one pass over the
/// bytes and a lookup needs only a pointer and a length.
struct TokenTable: Sendable {
  /// Every token's text back to back, as stored in the vocabulary (e.g. "▁world", "<0x0A>").
  let bytes: [UInt8]
  /// Start of each token's text in `bytes`; one extra entry marks the end.
  let starts: [Int32]
  /// Token ids by hash slot; -1 marks an empty slot. The count is a power of two.
  private let slots: [Int32]

  var count: Int { starts.count - 1 }

  /// - Parameter tokens: token texts by id. An empty text is stored as `[EMPTY_<id>]`, the name
  ///   llama.cpp gives it, so such a token still has a distinct, findable text. When two tokens
  ///   share a text the later id wins, as in llama.cpp's map.
  init(tokens: [String]) {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(tokens.count * 8)
    var starts: [Int32] = []
    starts.reserveCapacity(tokens.count + 1)
    for (i, t) in tokens.enumerated() {
      starts.append(Int32(bytes.count))
      var text = t.isEmpty ? "[EMPTY_\(i)]" : t
      text.withUTF8 { bytes.append(contentsOf: $0) }
    }
    starts.append(Int32(bytes.count))

    var capacity = 16
    while capacity < tokens.count * 2 { capacity <<= 1 }
    var slots = [Int32](repeating: -1, count: capacity)
    let mask = capacity - 1
    bytes.withUnsafeBufferPointer { b in
      starts.withUnsafeBufferPointer { s in
        slots.withUnsafeMutableBufferPointer { table in
          for id in 0..<(s.count - 1) {
            let start = Int(s[id])
            let count = Int(s[id + 1]) - start
            let key = UnsafeBufferPointer(rebasing: b[start..<(start + count)])
            var slot = Int(truncatingIfNeeded: TokenTable.hash(key)) & mask
            while true {
              let occupant = table[slot]
              if occupant < 0 {
                table[slot] = Int32(id)
                break
              }
              let o = Int(s[Int(occupant)])
              let oCount = Int(s[Int(occupant) + 1]) - o
              if oCount == count && TokenTable.equal(key, UnsafeBufferPointer(rebasing: b[o..<(o + oCount)])) {
                table[slot] = Int32(id)
                break
              }
              slot = (slot + 1) & mask
            }
          }
        }
      }
    }
    self.bytes = bytes
    self.starts = starts
    self.slots = slots
  }

  /// The id of the token whose text is exactly `key`.
  @inline(__always)
  func id(_ key: UnsafeBufferPointer<UInt8>) -> Int32? {
    bytes.withUnsafeBufferPointer { b in
      starts.withUnsafeBufferPointer { s in
        slots.withUnsafeBufferPointer { table in
          let mask = table.count - 1
          var slot = Int(truncatingIfNeeded: TokenTable.hash(key)) & mask
          while true {
            let occupant = table[slot]
            if occupant < 0 { return nil }
            let o = Int(s[Int(occupant)])
            let oCount = Int(s[Int(occupant) + 1]) - o
            if oCount == key.count && TokenTable.equal(key, UnsafeBufferPointer(rebasing: b[o..<(o + oCount)])) {
              return occupant
            }
            slot = (slot + 1) & mask
          }
        }
      }
    }
  }

  /// The id of the token whose text is exactly `text`.
  func id(_ text: String) -> Int32? {
    var text = text
    return text.withUTF8 { id($0) }
  }

  /// The stored text bytes of token `id` (which must be in range).
  func text(_ id: Int) -> ArraySlice<UInt8> {
    bytes[Int(starts[id])..<Int(starts[id + 1])]
  }

  /// FNV-1a over the bytes, then a multiply-xorshift finish so the low bits used for the slot
  /// depend on every input byte.
  @inline(__always)
  private static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in key {
      h ^= UInt64(b)
      h &*= 0x0000_0100_0000_01b3
    }
    h ^= h >> 29
    h &*= 0xbf58_476d_1ce4_e5b9
    h ^= h >> 32
    return h
  }

  @inline(__always)
  private static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    for i in 0..<a.count where a[i] != b[i] { return false }
    return true
  }
}
