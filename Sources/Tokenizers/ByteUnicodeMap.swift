/// GPT-2's reversible byte-to-unicode mapping. Byte-level BPE vocabularies store every token in
/// this encoding so that no token text contains raw control bytes or spaces: printable Latin-1
/// bytes map to themselves, the remaining 68 bytes to U+0100 and up, in byte order.
public enum ByteUnicodeMap {
  /// `scalar[b]` is the character standing for byte `b`.
  public static let scalars: [Unicode.Scalar] = {
    var table = [Unicode.Scalar](repeating: " ", count: 256)
    var next: UInt32 = 256
    for b in 0..<256 {
      if isPrintable(UInt8(b)) {
        table[b] = Unicode.Scalar(UInt32(b))!
      } else {
        table[b] = Unicode.Scalar(next)!
        next += 1
      }
    }
    return table
  }()

  /// Inverse table indexed by scalar value (all mapped scalars are below U+0144); -1 = unmapped.
  private static let inverse: [Int16] = {
    var table = [Int16](repeating: -1, count: 0x144)
    for (b, s) in scalars.enumerated() { table[Int(s.value)] = Int16(b) }
    return table
  }()

  private static func isPrintable(_ b: UInt8) -> Bool {
    (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
  }

  /// The byte a mapped scalar stands for, or nil when the scalar is not part of the mapping.
  @inline(__always)
  public static func byte(for scalar: Unicode.Scalar) -> UInt8? {
    let v = Int(scalar.value)
    guard v < inverse.count, inverse[v] >= 0 else { return nil }
    return UInt8(inverse[v])
  }

  /// Encodes raw bytes into their GPT-2 unicode form ("\u{20}world" → "Ġworld").
  public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
    var s = String.UnicodeScalarView()
    for b in bytes { s.append(scalars[Int(b)]) }
    return String(s)
  }

  /// Appends the UTF-8 of byte `b`'s GPT-2 character (all are below U+0144: one or two bytes).
  @inline(__always)
  static func appendEncoded(_ b: UInt8, to out: inout [UInt8]) {
    let v = scalarValues[Int(b)]
    if v < 0x80 {
      out.append(UInt8(v))
    } else {
      out.append(UInt8(0xC0 | (v >> 6)))
      out.append(UInt8(0x80 | (v & 0x3F)))
    }
  }

  private static let scalarValues: [UInt16] = scalars.map { UInt16($0.value) }

  /// Decodes a GPT-2 unicode string back to raw bytes. Characters outside the mapping (which
  /// a well-formed vocabulary never contains) are kept as their own UTF-8 so nothing is lost.
  public static func decode(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8.count)
    for s in text.unicodeScalars {
      if let b = byte(for: s) {
        out.append(b)
      } else {
        out.append(contentsOf: String(s).utf8)
      }
    }
    return out
  }
}
