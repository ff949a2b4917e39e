/// The classes of a code point that pre-tokenizer rules ask about. Every code point below
/// U+110000 has exactly one general-category bit (`other` covers unassigned, separators and
/// controls), so a class of `[]` means "past the end of the text".
struct CodepointClass: OptionSet, Sendable {
  let rawValue: UInt8

  init(rawValue: UInt8) {
    self.rawValue = rawValue
  }

  /// `\p{L}`
  static let letter = CodepointClass(rawValue: 1)
  /// `\p{N}`
  static let number = CodepointClass(rawValue: 2)
  /// Unicode White_Space, llama.cpp's `\s` (not a category: tab and space also carry one).
  static let whitespace = CodepointClass(rawValue: 4)
  /// `\p{M}`
  static let mark = CodepointClass(rawValue: 8)
  /// `\p{P}`
  static let punctuation = CodepointClass(rawValue: 16)
  /// `\p{S}`
  static let symbol = CodepointClass(rawValue: 32)
  /// Unassigned, separator (`\p{Z}`) or control (`\p{C}`).
  static let other = CodepointClass(rawValue: 64)

  static let outOfRange = CodepointClass([])

  /// The byte llama.cpp substitutes for a non-ASCII code point before running a regex that names
  /// Unicode categories: whitespace becomes U+000B, a letter 0xD2, a number 0xD1, punctuation
  /// 0xD3, a mark 0xD4, a symbol 0xD5, anything else 0xD0 (see `SplitRegex`).
  var collapsed: UInt32 {
    if contains(.whitespace) { return 0x0B }
    if contains(.letter) { return 0xD2 }
    if contains(.number) { return 0xD1 }
    if contains(.punctuation) { return 0xD3 }
    if contains(.mark) { return 0xD4 }
    if contains(.symbol) { return 0xD5 }
    return 0xD0
  }
}

/// Code point → `CodepointClass`, with general categories from Unicode 15.1 (the version of
/// llama.cpp's tables; `tools/gen_unicode_categories.py` writes the runs). Swift's own scalar
/// properties follow a newer Unicode and would split some text differently.
enum UnicodeCategoryTable {
  /// Two-level table: `blockIndex[cp >> 8]` picks a 256-entry block of `blocks`; identical blocks
  /// (most of the planes) are stored once.
  private static let tables: (blockIndex: [UInt16], blocks: [CodepointClass]) = build()

  private static let categoryClasses: [CodepointClass] = [
    .other, .number, .letter, .other, .mark, .punctuation, .symbol, .other,
  ]

  /// The class of each code point (`.other` above U+10FFFF, which valid text never holds),
  /// touching the tables once for the whole text.
  static func classify(_ codepoints: UnsafeBufferPointer<UInt32>, into out: UnsafeMutableBufferPointer<CodepointClass>) {
    let t = tables
    t.blockIndex.withUnsafeBufferPointer { index in
      t.blocks.withUnsafeBufferPointer { blocks in
        for (i, cp) in codepoints.enumerated() {
          out[i] = cp < 0x110000 ? blocks[Int(index[Int(cp >> 8)]) << 8 | Int(cp & 0xFF)] : .other
        }
      }
    }
  }

  /// Unicode White_Space.
  static func isWhitespace(_ cp: UInt32) -> Bool {
    switch cp {
    case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
      return true
    default:
      return false
    }
  }

  private static func build() -> ([UInt16], [CodepointClass]) {
    var flat = [CodepointClass](repeating: .other, count: 0x110000)
    for (i, run) in runs.enumerated() {
      let start = Int(run >> 8)
      let end = i + 1 < runs.count ? Int(runs[i + 1] >> 8) : 0x110000
      let c = categoryClasses[Int(run & 0xFF)]
      for cp in start..<end { flat[cp] = c }
    }
    for cp in 0..<0x3001 where isWhitespace(UInt32(cp)) { flat[cp].insert(.whitespace) }

    var index: [UInt16] = []
    var blocks: [CodepointClass] = []
    var seen: [[UInt8]: UInt16] = [:]
    for b in 0..<(0x110000 >> 8) {
      let block = flat[(b << 8)..<((b + 1) << 8)]
      let key = block.map(\.rawValue)
      if let i = seen[key] {
        index.append(i)
      } else {
        let i = UInt16(blocks.count >> 8)
        seen[key] = i
        blocks.append(contentsOf: block)
        index.append(i)
      }
    }
    return (index, blocks)
  }
}
