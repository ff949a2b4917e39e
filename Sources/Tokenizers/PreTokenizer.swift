/// Splits raw text into the chunks that byte-level BPE merges within (merges never cross a chunk
/// boundary), with the rules llama.cpp applies for each `tokenizer.ggml.pre` value, so that token
/// ids match the model's training exactly.
///
/// A family's rules run in order, each cutting every chunk the previous one made. llama.cpp's
/// hand-written splitters (GPT-2, Llama 3, Qwen 2, Qwen 3.5, newline runs) have twins in
/// `PreTokenizer+Splitters.swift`, quirks included; every other regex runs through `SplitRegex`,
/// which reproduces `std::regex` on llama.cpp's rewritten text. Character classes come from
/// Unicode 15.1 (`UnicodeCategoryTable`), as llama.cpp's do.
public struct PreTokenizer: Sendable {
  public let type: PreTokenizerType
  let rules: [SplitRule]

  public init(type: PreTokenizerType) {
    self.type = type
    rules = type.rules
  }

  /// Picks the rules for a GGUF `tokenizer.ggml.pre` value (nil: llama.cpp's `default`).
  public init(pre: String?) throws(TokenizerError) {
    guard let type = PreTokenizerType(pre: pre) else {
      throw .unsupportedPreTokenizer(pre ?? "")
    }
    self.init(type: type)
  }

  /// The chunks of `text`, in order; concatenated they give back `text`.
  public func split(_ text: String) -> [String] {
    var w = PreTokenizerWorkspace()
    var utf8 = Array(text.utf8)
    utf8.withUnsafeMutableBufferPointer { w.load(UnsafeBufferPointer($0)) }
    chunk(&w)
    var out: [String] = []
    var start = 0
    for end in w.ends {
      out.append(String(decoding: utf8[Int(w.byteStarts[start])..<Int(w.byteStarts[Int(end)])], as: UTF8.self))
      start = Int(end)
    }
    return out
  }

  /// Fills `w.ends` with the end (in code points) of each chunk of the text `w.load` read.
  func chunk(_ w: inout PreTokenizerWorkspace) {
    let n = w.codepoints.count
    w.ends.removeAll(keepingCapacity: true)
    guard n > 0 else { return }
    w.ends.append(Int32(n))
    w.valuesMode = nil
    for rule in rules {
      w.next.removeAll(keepingCapacity: true)
      if case .pattern(let regex) = rule { w.prepareValues(collapsed: regex.collapsed) }
      w.codepoints.withUnsafeBufferPointer { cps in
        w.classes.withUnsafeBufferPointer { cls in
          w.values.withUnsafeBufferPointer { values in
            var start = 0
            for end in w.ends {
              let range = start..<Int(end)
              switch rule {
              case .gpt2:
                PreTokenizer.splitGPT2(cps, cls, range, into: &w.next)
              case .llama3(let digitRun, let marks):
                PreTokenizer.splitLlama3(cps, cls, range, digitRun: digitRun, marks: marks, into: &w.next)
              case .newlines:
                PreTokenizer.splitNewlines(cps, range, into: &w.next)
              case .pattern(let regex):
                regex.split(values, range, into: &w.next, scratch: &w.regex)
              }
              start = Int(end)
            }
          }
        }
      }
      swap(&w.ends, &w.next)
    }
  }
}

/// One splitting step.
enum SplitRule: Sendable {
  /// llama.cpp's hand-written GPT-2 splitter.
  case gpt2
  /// llama.cpp's hand-written Llama 3 splitter and its Qwen variants: digit runs cut every
  /// `digitRun` digits; `marks` lets combining marks join letter runs (Qwen 3.5).
  case llama3(digitRun: Int, marks: Bool)
  /// Runs of newlines and runs of anything else.
  case newlines
  case pattern(SplitRegex)

  static func regex(_ pattern: String) -> SplitRule { .pattern(SplitRegex(pattern)) }
}

/// Buffers for one text being pre-tokenized, reused across the fragments of an `encode` call.
struct PreTokenizerWorkspace {
  var codepoints: [UInt32] = []
  /// Byte offset of each code point in the loaded UTF-8, plus the end.
  var byteStarts: [Int32] = []
  var classes: [CodepointClass] = []
  /// What `SplitRegex` reads (see there); `valuesMode` says which form it holds.
  var values: [UInt32] = []
  var valuesMode: Bool?
  var ends: [Int32] = []
  var next: [Int32] = []
  var regex = SplitRegexScratch()

  /// Decodes valid UTF-8 (fragments of a Swift `String`) into code points and their classes.
  mutating func load(_ utf8: UnsafeBufferPointer<UInt8>) {
    codepoints.removeAll(keepingCapacity: true)
    byteStarts.removeAll(keepingCapacity: true)
    var i = 0
    while i < utf8.count {
      let b = utf8[i]
      byteStarts.append(Int32(i))
      var cp: UInt32
      var width: Int
      switch b {
      case 0..<0x80: (cp, width) = (UInt32(b), 1)
      case 0xC0..<0xE0: (cp, width) = (UInt32(b & 0x1F), 2)
      case 0xE0..<0xF0: (cp, width) = (UInt32(b & 0x0F), 3)
      default: (cp, width) = (UInt32(b & 0x07), 4)
      }
      width = min(width, utf8.count - i)
      for k in 1..<max(width, 1) { cp = cp << 6 | UInt32(utf8[i + k] & 0x3F) }
      codepoints.append(cp)
      i += width
    }
    byteStarts.append(Int32(utf8.count))
    classes.removeAll(keepingCapacity: true)
    classes.append(contentsOf: repeatElement([], count: codepoints.count))
    codepoints.withUnsafeBufferPointer { cps in
      classes.withUnsafeMutableBufferPointer { UnicodeCategoryTable.classify(cps, into: $0) }
    }
    valuesMode = nil
  }

  /// Fills `values` for a regex: collapsed stand-ins for patterns that name categories, else the
  /// code points with non-ASCII whitespace turned into U+000B.
  mutating func prepareValues(collapsed: Bool) {
    guard valuesMode != collapsed else { return }
    valuesMode = collapsed
    values.removeAll(keepingCapacity: true)
    for (cp, c) in zip(codepoints, classes) {
      if cp < 0x80 {
        values.append(cp)
      } else if collapsed {
        values.append(c.collapsed)
      } else {
        values.append(c.contains(.whitespace) ? 0x0B : cp)
      }
    }
  }
}
