/// Turns generated token ids into text as they arrive, emitting only whole UTF-8 characters.
///
/// Byte-level BPE often splits one character (an emoji, a CJK ideograph) across several tokens;
/// decoding each token alone would print U+FFFD fragments. This holds back a trailing incomplete
/// sequence until the bytes that finish it arrive, so the concatenated output equals
/// `decode(allIDs)` exactly.
public struct StreamingDetokenizer: Sendable {
  private let tokenizer: Tokenizer
  private let special: Bool
  private var pending: [UInt8] = []

  /// - Parameter special: render control tokens' text, as in `Tokenizer.decode(_:special:)`.
  public init(tokenizer: Tokenizer, special: Bool = false) {
    self.tokenizer = tokenizer
    self.special = special
  }

  /// Adds one token and returns whatever text is now complete (often empty).
  public mutating func append(_ id: Int32) -> String {
    pending.append(contentsOf: tokenizer.pieceSlice(id, special: special))
    let cut = StreamingDetokenizer.completePrefixLength(pending)
    guard cut > 0 else { return "" }
    let text = String(decoding: pending[..<cut], as: UTF8.self)
    pending.removeFirst(cut)
    return text
  }

  /// Returns the held-back bytes (invalid ones as U+FFFD) and resets the stream.
  public mutating func flush() -> String {
    defer { pending.removeAll() }
    return String(decoding: pending, as: UTF8.self)
  }

  /// Bytes that could still become valid UTF-8 but are not finished yet.
  public var pendingByteCount: Int { pending.count }

  /// Length of the prefix that can be emitted now: everything except a trailing sequence that
  /// is a valid but unfinished UTF-8 character. Invalid bytes are not held, since no later
  /// byte can repair them; they are emitted (as U+FFFD) right away.
  static func completePrefixLength(_ bytes: [UInt8]) -> Int {
    let n = bytes.count
    // The last lead byte is at most 3 positions back from the end.
    var lead = n - 1
    while lead >= 0 && lead >= n - 4 && bytes[lead] & 0xC0 == 0x80 { lead -= 1 }
    guard lead >= 0, lead >= n - 4 else { return n }
    let b = bytes[lead]
    let needed: Int
    switch b {
    case 0xC2...0xDF: needed = 2
    case 0xE0...0xEF: needed = 3
    case 0xF0...0xF4: needed = 4
    default: return n
    }
    let have = n - lead
    guard have < needed else { return n }
    if have >= 2 {
      // The second byte's allowed range depends on the lead (no overlongs, surrogates,
      // or values above U+10FFFF).
      let second = bytes[lead + 1]
      let ok: Bool
      switch b {
      case 0xE0: ok = (0xA0...0xBF).contains(second)
      case 0xED: ok = (0x80...0x9F).contains(second)
      case 0xF0: ok = (0x90...0xBF).contains(second)
      case 0xF4: ok = (0x80...0x8F).contains(second)
      default: ok = true
      }
      if !ok { return n }
    }
    return lead
  }
}
