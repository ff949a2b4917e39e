/// The bytes each token id decodes to, laid out back to back with start offsets, built once so
/// decoding is a slice copy per token.
extension Tokenizer {
  /// Byte-level BPE: normal tokens are decoded from the GPT-2 byte-to-unicode form; control,
  /// user-defined and unknown tokens give their literal text.
  static func bytePairPieces(tokens: [String], types: [TokenType]) -> (bytes: [UInt8], starts: [Int32]) {
    var bytes: [UInt8] = []
    var starts: [Int32] = []
    starts.reserveCapacity(tokens.count + 1)
    for (i, text) in tokens.enumerated() {
      starts.append(Int32(bytes.count))
      switch types[i] {
      case .normal, .undefined:
        bytes.append(contentsOf: ByteUnicodeMap.decode(text))
      case .byte:
        let u = Array(text.utf8)
        if let b = parseByteToken(u[...]) {
          bytes.append(b)
        } else {
          bytes.append(contentsOf: ByteUnicodeMap.decode(text))
        }
      case .control, .userDefined, .unknown:
        bytes.append(contentsOf: text.utf8)
      case .unused:
        break
      }
    }
    starts.append(Int32(bytes.count))
    return (bytes, starts)
  }

  /// SentencePiece: in normal tokens `▁` is a space; `<0xNN>` byte tokens give that one byte;
  /// control, user-defined and unknown tokens give their literal text; unused and undefined
  /// ones give nothing (llama.cpp's `token_to_piece` for this model type). Works on the table's
  /// bytes so no per-token String is touched.
  static func sentencePiecePieces(table: TokenTable, types: [TokenType]) -> (bytes: [UInt8], starts: [Int32]) {
    var starts = [Int32](repeating: 0, count: table.count + 1)
    // Every piece is at most as long as its vocabulary text, so the text's size bounds the output.
    let bytes = [UInt8](unsafeUninitializedCapacity: table.bytes.count) { out, written in
      var n = 0
      table.bytes.withUnsafeBufferPointer { all in
        for i in 0..<table.count {
          starts[i] = Int32(n)
          let lower = Int(table.starts[i])
          let upper = Int(table.starts[i + 1])
          switch types[i] {
          case .normal:
            var p = lower
            while p < upper {
              if p + 2 < upper, all[p] == 0xE2, all[p + 1] == 0x96, all[p + 2] == 0x81 {
                out[n] = 0x20
                p += 3
              } else {
                out[n] = all[p]
                p += 1
              }
              n += 1
            }
          case .byte:
            if let b = parseByteToken(all[lower..<upper]) {
              out[n] = b
              n += 1
              continue
            }
            fallthrough
          case .control, .userDefined, .unknown:
            for p in lower..<upper {
              out[n] = all[p]
              n += 1
            }
          case .unused, .undefined:
            break
          }
        }
      }
      starts[table.count] = Int32(n)
      written = n
    }
    return (bytes, starts)
  }

  /// SentencePiece-style byte tokens are spelled `<0xAB>`.
  static func parseByteToken<C: Collection>(_ u: C) -> UInt8? where C.Element == UInt8, C.Index == Int {
    guard u.count == 6 else { return nil }
    let s = u.startIndex
    guard u[s] == 0x3C, u[s + 1] == 0x30, u[s + 2] == 0x78, u[s + 5] == 0x3E,
      let high = hexValue(u[s + 3]), let low = hexValue(u[s + 4])
    else { return nil }
    return high << 4 | low
  }

  private static func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: c - 0x30
    case 0x41...0x46: c - 0x41 + 10
    case 0x61...0x66: c - 0x61 + 10
    default: nil
    }
  }
}
