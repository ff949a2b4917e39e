/// Twins of llama.cpp's hand-written splitters. They are what real models' ids depend on, so they
/// keep llama.cpp's departures from the regexes they stand for: lookups past the end of the chunk
/// see no class at all (so a lone trailing space falls through to `\s+`), and the Llama 3 family
/// lets any leading character but CR, LF or a digit precede a letter run.
extension PreTokenizer {
  /// Scalar and class lookups that see "nothing" outside the chunk.
  private struct Chunk {
    let cps: UnsafeBufferPointer<UInt32>
    let cls: UnsafeBufferPointer<CodepointClass>
    let end: Int
    static let outOfRange = UInt32.max

    @inline(__always) func cp(_ i: Int) -> UInt32 { i < end ? cps[i] : Chunk.outOfRange }
    @inline(__always) func cls(_ i: Int) -> CodepointClass { i < end ? cls[i] : .outOfRange }
  }

  private static let newline: UInt32 = 0x0A
  private static let carriageReturn: UInt32 = 0x0D
  private static let apostrophe: UInt32 = 0x27
  private static let space: UInt32 = 0x20

  /// The end of a contraction (`'s 't 're 've 'm 'll 'd`) starting at `pos`, or nil. Llama 3's
  /// are case-insensitive; in Unicode only the ASCII capitals lower-case onto these letters.
  @inline(__always)
  private static func contractionEnd(_ c: Chunk, _ pos: Int, caseInsensitive: Bool) -> Int? {
    guard c.cps[pos] == apostrophe, pos + 1 < c.end else { return nil }
    func lower(_ v: UInt32) -> UInt32 { caseInsensitive && v >= 0x41 && v <= 0x5A ? v + 0x20 : v }
    let n = lower(c.cps[pos + 1])
    if n == 0x73 || n == 0x74 || n == 0x6D || n == 0x64 { return pos + 2 }  // s t m d
    guard pos + 2 < c.end else { return nil }
    let nn = lower(c.cps[pos + 2])
    // re ve ll
    if (n == 0x72 && nn == 0x65) || (n == 0x76 && nn == 0x65) || (n == 0x6C && nn == 0x6C) { return pos + 3 }
    return nil
  }

  /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
  static func splitGPT2(
    _ cps: UnsafeBufferPointer<UInt32>, _ cls: UnsafeBufferPointer<CodepointClass>, _ range: Range<Int>,
    into ends: inout [Int32]
  ) {
    let c = Chunk(cps: cps, cls: cls, end: range.upperBound)
    var pos = range.lowerBound
    while pos < c.end {
      if let e = contractionEnd(c, pos, caseInsensitive: false) {
        pos = e
        ends.append(Int32(pos))
        continue
      }
      let leadingSpace = c.cps[pos] == space
      let head = leadingSpace ? c.cls(pos + 1) : c.cls[pos]
      let run: CodepointClass? =
        head.contains(.letter) ? .letter : head.contains(.number) ? .number : nil
      if let run {
        if leadingSpace { pos += 1 }
        while c.cls(pos).contains(run) { pos += 1 }
        ends.append(Int32(pos))
        continue
      }
      let word: CodepointClass = [.whitespace, .letter, .number]
      if head.isDisjoint(with: word) && head != .outOfRange {
        if leadingSpace { pos += 1 }
        while c.cls(pos).isDisjoint(with: word) && c.cls(pos) != .outOfRange { pos += 1 }
        ends.append(Int32(pos))
        continue
      }
      var spaces = 0
      while c.cls(pos + spaces).contains(.whitespace) { spaces += 1 }
      if spaces > 1 && c.cp(pos + spaces) != Chunk.outOfRange {
        pos += spaces - 1  // \s+(?!\S): the last space goes with the next word
      } else if spaces > 0 {
        pos += spaces
      } else {
        pos += 1
      }
      ends.append(Int32(pos))
    }
  }

  /// Llama 3 (`digitRun` 3), Qwen 2 (`digitRun` 1), Qwen 3.5 (`digitRun` 1, `marks`):
  /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
  static func splitLlama3(
    _ cps: UnsafeBufferPointer<UInt32>, _ cls: UnsafeBufferPointer<CodepointClass>, _ range: Range<Int>,
    digitRun: Int, marks: Bool, into ends: inout [Int32]
  ) {
    let c = Chunk(cps: cps, cls: cls, end: range.upperBound)
    let letters: CodepointClass = marks ? [.letter, .mark] : .letter
    let word: CodepointClass = marks ? [.whitespace, .letter, .mark, .number] : [.whitespace, .letter, .number]
    func emit(_ end: Int) {
      if ends.last.map({ Int($0) }) ?? range.lowerBound < end { ends.append(Int32(end)) }
    }
    var pos = range.lowerBound
    while pos < c.end {
      let cp = c.cps[pos]
      let flags = c.cls[pos]
      if let e = contractionEnd(c, pos, caseInsensitive: true) {
        pos = e
        emit(pos)
        continue
      }
      // [^\r\n\p{L}\p{N}]?\p{L}+ — any lead but CR, LF or a digit, as llama.cpp checks it.
      if !(cp == carriageReturn || cp == newline || flags.contains(.number)),
        !flags.isDisjoint(with: letters) || !c.cls(pos + 1).isDisjoint(with: letters)
      {
        pos += 1
        while !c.cls(pos).isDisjoint(with: letters) { pos += 1 }
        emit(pos)
        continue
      }
      if flags.contains(.number) {
        var runStart = pos
        while c.cls(pos).contains(.number) {
          pos += 1
          if pos - runStart >= digitRun {
            emit(pos)
            runStart = pos
          }
        }
        emit(pos)
        continue
      }
      // ` ?[^\s\p{L}\p{N}]+[\r\n]*`; llama.cpp tests the current character for presence, so a space
      // at the very end of the chunk enters here and ends up alone.
      var next = cp == space ? c.cls(pos + 1) : flags
      if next.isDisjoint(with: word) {
        if cp == space { pos += 1 }
        while next.isDisjoint(with: word) && next != .outOfRange {
          pos += 1
          next = c.cls(pos)
        }
        while c.cp(pos) == carriageReturn || c.cp(pos) == newline { pos += 1 }
        emit(pos)
        continue
      }
      var spaces = 0
      var afterLastNewline = 0
      while c.cls(pos + spaces).contains(.whitespace) {
        let w = c.cp(pos + spaces)
        if w == carriageReturn || w == newline { afterLastNewline = pos + spaces + 1 }
        spaces += 1
      }
      if afterLastNewline > 0 {
        pos = afterLastNewline  // \s*[\r\n]+
      } else if spaces > 1 && c.cp(pos + spaces) != Chunk.outOfRange {
        pos += spaces - 1  // \s+(?!\S)
      } else if spaces > 0 {
        pos += spaces
      } else {
        pos += 1
      }
      emit(pos)
    }
  }

  /// `[^\n]+|[\n]+`
  static func splitNewlines(_ cps: UnsafeBufferPointer<UInt32>, _ range: Range<Int>, into ends: inout [Int32]) {
    var pos = range.lowerBound
    while pos < range.upperBound {
      let isNewline = cps[pos] == newline
      while pos < range.upperBound && (cps[pos] == newline) == isNewline { pos += 1 }
      ends.append(Int32(pos))
    }
  }
}
