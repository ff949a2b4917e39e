/// Splits raw text into the chunks that byte-level BPE merges within (merges never cross a
/// chunk boundary). The rules are hand-written equivalents of the regexes llama.cpp applies for
/// each `tokenizer.ggml.pre` value, so that token ids match the model's training exactly.
public struct PreTokenizer: Sendable {
  /// The regex families implemented.
  public enum Kind: Sendable, Equatable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// StarCoder and relatives (smollm, refact, command-r, codeshell, exaone, minerva):
    /// first every `\p{N}` code point becomes a chunk of its own, then GPT-2 splits the rest.
    case starCoder
  }

  public let kind: Kind

  public init(kind: Kind) {
    self.kind = kind
  }

  /// Picks the splitting rules for a GGUF `tokenizer.ggml.pre` value.
  public init(pre: String?) throws(TokenizerError) {
    switch pre {
    case nil, "default", "gpt2", "gpt-2", "phi-2", "jina-es", "jina-de", "jina-v1-en",
      "jina-v2-es", "jina-v2-de", "jina-v2-code", "gigachat", "roberta-bpe":
      self.kind = .gpt2
    case "starcoder", "smollm", "refact", "command-r", "codeshell", "exaone", "minerva-7b":
      self.kind = .starCoder
    case let other?:
      throw .unsupportedPreTokenizer(other)
    }
  }

  /// The chunks of `text`, in order; concatenated they give back `text`.
  public func split(_ text: String) -> [String] {
    let scalars = Array(text.unicodeScalars)
    var out: [String] = []
    forEachChunk(scalars) { range in
      var view = String.UnicodeScalarView()
      view.append(contentsOf: scalars[range])
      out.append(String(view))
    }
    return out
  }

  /// Calls `body` with the scalar index range of each chunk, left to right.
  func forEachChunk(_ scalars: [Unicode.Scalar], _ body: (Range<Int>) -> Void) {
    let classes = scalars.map(ScalarClass.init)
    switch kind {
    case .gpt2:
      splitGPT2(scalars, classes, 0..<scalars.count, body)
    case .starCoder:
      // `\p{N}` as a first pass: each number scalar alone, the text between as one piece.
      var start = 0
      for i in 0..<scalars.count where classes[i].contains(.number) {
        if start < i { splitGPT2(scalars, classes, start..<i, body) }
        body(i..<(i + 1))
        start = i + 1
      }
      if start < scalars.count { splitGPT2(scalars, classes, start..<scalars.count, body) }
    }
  }

  /// The GPT-2 alternatives tried in regex order at each position. Lookups past the end of the
  /// piece see "no class", which is why a trailing lone space falls through to `\s+`.
  private func splitGPT2(
    _ s: [Unicode.Scalar], _ cls: [ScalarClass], _ piece: Range<Int>, _ body: (Range<Int>) -> Void
  ) {
    let end = piece.upperBound
    var start = piece.lowerBound
    var pos = start
    @inline(__always) func classAt(_ i: Int) -> ScalarClass { i < end ? cls[i] : .outOfRange }
    @inline(__always) func emit() {
      body(start..<pos)
      start = pos
    }

    while pos < end {
      let c = s[pos]
      // Contractions, lowercase only, as GPT-2's regex is case-sensitive.
      if c == "'" && pos + 1 < end {
        let n = s[pos + 1]
        if n == "s" || n == "t" || n == "m" || n == "d" {
          pos += 2
          emit()
          continue
        }
        if pos + 2 < end {
          let nn = s[pos + 2]
          if (n == "r" && nn == "e") || (n == "v" && nn == "e") || (n == "l" && nn == "l") {
            pos += 3
            emit()
            continue
          }
        }
      }

      let leadingSpace = c == " "
      let head = leadingSpace ? classAt(pos + 1) : cls[pos]
      // ` ?\p{L}+`
      if head.contains(.letter) {
        if leadingSpace { pos += 1 }
        while classAt(pos).contains(.letter) { pos += 1 }
        emit()
        continue
      }
      // ` ?\p{N}+`
      if head.contains(.number) {
        if leadingSpace { pos += 1 }
        while classAt(pos).contains(.number) { pos += 1 }
        emit()
        continue
      }
      // ` ?[^\s\p{L}\p{N}]+`
      if head.isOther {
        if leadingSpace { pos += 1 }
        while classAt(pos).isOther { pos += 1 }
        emit()
        continue
      }

      var spaces = 0
      while classAt(pos + spaces).contains(.whitespace) { spaces += 1 }
      if spaces > 1 && pos + spaces < end {
        // `\s+(?!\S)`: leave the last whitespace to prefix the following word.
        pos += spaces - 1
      } else if spaces > 0 {
        pos += spaces
      } else {
        pos += 1
      }
      emit()
    }
  }
}

/// The three character classes the pre-tokenizer regexes mention, plus "past the end".
struct ScalarClass: OptionSet, Sendable {
  let rawValue: UInt8

  static let letter = ScalarClass(rawValue: 1)
  static let number = ScalarClass(rawValue: 2)
  static let whitespace = ScalarClass(rawValue: 4)
  /// Every real scalar carries this bit, so `[^\s\p{L}\p{N}]` can tell "punctuation" from
  /// "nothing there".
  static let present = ScalarClass(rawValue: 8)
  static let outOfRange = ScalarClass([])

  init(rawValue: UInt8) {
    self.rawValue = rawValue
  }

  init(_ scalar: Unicode.Scalar) {
    let v = scalar.value
    if v < 0x80 {
      self = ScalarClass.asciiTable[Int(v)]
      return
    }
    var c: ScalarClass = .present
    if ScalarClass.isWhitespace(v) { c.insert(.whitespace) }
    switch scalar.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
      c.insert(.letter)
    case .decimalNumber, .letterNumber, .otherNumber:
      c.insert(.number)
    default:
      break
    }
    self = c
  }

  /// Present but neither letter, number nor whitespace.
  var isOther: Bool { self == .present }

  /// Unicode White_Space, the set llama.cpp's tables use for `\s`.
  static func isWhitespace(_ v: UInt32) -> Bool {
    switch v {
    case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F,
      0x205F, 0x3000:
      return true
    default:
      return false
    }
  }

  private static let asciiTable: [ScalarClass] = (0..<0x80).map { v in
    var c: ScalarClass = .present
    let u = UInt8(v)
    if isWhitespace(UInt32(v)) { c.insert(.whitespace) }
    if (u >= 0x41 && u <= 0x5A) || (u >= 0x61 && u <= 0x7A) { c.insert(.letter) }
    if u >= 0x30 && u <= 0x39 { c.insert(.number) }
    return c
  }
}
