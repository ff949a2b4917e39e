/// Token text → id, keyed by the text's UTF-8 bytes.
///
/// A 262k-token vocabulary as a `[String: Int32]` costs one String hash per token at load and a
/// String per lookup while encoding. Here every token's bytes sit back to back in one array and an
/// open-addressing table is probed with a byte hash, so building it is one pass over the bytes
/// and a lookup needs only a pointer and a length.
struct TokenTable: Sendable {
  /// Every token's text back to back, as stored in the vocabulary (e.g. "▁world", "<0x0A>").
  let bytes: [UInt8]
  /// Start of each token's text in `bytes`; one extra entry marks the end.
  let starts: [Int32]
  /// Per hash slot: the high 32 bits of the key's hash (so most probes that miss never touch
  /// `bytes`) and the token id in the low 32; `emptySlot` marks a free slot. The count is a
  /// power of two at least twice the number of tokens.
  private let slots: [UInt64]

  private static let emptySlot = UInt64.max

  var count: Int { starts.count - 1 }

  /// - Parameter tokens: token texts by id. An empty text is stored as `[EMPTY_<id>]`, the name
  ///   llama.cpp gives it, so such a token still has a distinct, findable text. When two tokens
  ///   share a text the later id wins, as in llama.cpp's map.
  init(tokens: [String]) {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(tokens.count * 8)
    var starts: [Int32] = []
    starts.reserveCapacity(tokens.count + 1)
    var hashes: [UInt64] = []
    hashes.reserveCapacity(tokens.count)
    for (i, t) in tokens.enumerated() {
      starts.append(Int32(bytes.count))
      var text = t.isEmpty ? "[EMPTY_\(i)]" : t
      text.withUTF8 { u in
        bytes.append(contentsOf: u)
        hashes.append(TokenTable.hash(u))
      }
    }
    starts.append(Int32(bytes.count))

    var capacity = 16
    while capacity < tokens.count * 2 { capacity <<= 1 }
    var slots = [UInt64](repeating: TokenTable.emptySlot, count: capacity)
    let mask = capacity - 1
    bytes.withUnsafeBufferPointer { b in
      starts.withUnsafeBufferPointer { s in
        slots.withUnsafeMutableBufferPointer { table in
          for id in 0..<(s.count - 1) {
            let h = hashes[id]
            let tag = h & 0xFFFF_FFFF_0000_0000
            var slot = Int(truncatingIfNeeded: h) & mask
            while true {
              let occupant = table[slot]
              if occupant == TokenTable.emptySlot {
                table[slot] = tag | UInt64(id)
                break
              }
              if occupant & 0xFFFF_FFFF_0000_0000 == tag {
                let other = Int(truncatingIfNeeded: occupant & 0xFFFF_FFFF)
                if TokenTable.equal(TokenTable.text(id, b, s), TokenTable.text(other, b, s)) {
                  table[slot] = tag | UInt64(id)
                  break
                }
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
    let h = TokenTable.hash(key)
    let tag = h & 0xFFFF_FFFF_0000_0000
    return bytes.withUnsafeBufferPointer { b in
      starts.withUnsafeBufferPointer { s in
        slots.withUnsafeBufferPointer { table in
          let mask = table.count - 1
          var slot = Int(truncatingIfNeeded: h) & mask
          while true {
            let occupant = table[slot]
            if occupant == TokenTable.emptySlot { return nil }
            if occupant & 0xFFFF_FFFF_0000_0000 == tag {
              let id = Int(truncatingIfNeeded: occupant & 0xFFFF_FFFF)
              if TokenTable.equal(key, TokenTable.text(id, b, s)) { return Int32(id) }
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

  @inline(__always)
  private static func text(
    _ id: Int, _ b: UnsafeBufferPointer<UInt8>, _ s: UnsafeBufferPointer<Int32>
  ) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(rebasing: b[Int(s[id])..<Int(s[id + 1])])
  }

  /// FNV-1a over the bytes, then a multiply-xorshift finish so both the low bits (the slot) and
  /// the high bits (the tag) depend on every input byte.
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
