/// Byte-level BPE (GPT-2 style): pre-tokenize, map each chunk's UTF-8 bytes through
/// `ByteUnicodeMap`, then repeatedly merge the adjacent pair with the lowest merge rank.
///
/// Symbols are integers rather than strings so the merge loop does no string work: ids below
/// `vocabularyCount` are token ids, larger ones name merge parts/results that are missing from
/// the vocabulary (rare; they exist only so such merges still chain, and fall back to bytes).
struct BPETokenizer: Sendable {
  private struct Merge: Sendable {
    var rank: Int32
    var result: Int32
  }

  let preTokenizer: PreTokenizer
  private let vocabularyCount: Int32
  /// Key: left symbol << 32 | right symbol.
  private let merges: [UInt64: Merge]
  /// The symbol of each single byte's GPT-2 character.
  private let byteSymbols: [Int32]
  /// Raw bytes of the symbols numbered from `vocabularyCount` up, for the fallback in `emit`.
  private let extraSymbolBytes: [[UInt8]]
  /// Token texts by their bytes, for llama.cpp's `ignore_merges` lookup of whole words.
  private let table: TokenTable
  private let ignoresMerges: Bool

  /// - Parameter tokenIndex: token text → id, as shared with the owning `Tokenizer`.
  init(vocabulary: TokenizerVocabulary, tokenIndex: [String: Int32], table: TokenTable) throws(TokenizerError) {
    preTokenizer = try PreTokenizer(pre: vocabulary.pre)
    ignoresMerges = preTokenizer.type.ignoresMerges
    self.table = table
    let count = Int32(vocabulary.tokens.count)
    vocabularyCount = count

    var extraIndex: [String: Int32] = [:]
    var extraBytes: [[UInt8]] = []
    func symbol(_ text: String) -> Int32 {
      if let id = tokenIndex[text] { return id }
      if let id = extraIndex[text] { return id }
      let id = count + Int32(extraBytes.count)
      extraIndex[text] = id
      extraBytes.append(ByteUnicodeMap.decode(text))
      return id
    }

    byteSymbols = ByteUnicodeMap.scalars.map { symbol(String($0)) }

    var table: [UInt64: Merge] = [:]
    table.reserveCapacity(vocabulary.merges.count)
    for (rank, rule) in vocabulary.merges.enumerated() {
      // Split at the first space after the first character, as llama.cpp does, so a
      // left half that is itself a space still parses.
      let utf8 = Array(rule.utf8)
      guard utf8.count >= 3, let gap = utf8[1...].firstIndex(of: 0x20), gap + 1 < utf8.count
      else {
        throw .malformedMerge(index: rank, text: rule)
      }
      let left = String(decoding: utf8[..<gap], as: UTF8.self)
      let right = String(decoding: utf8[(gap + 1)...], as: UTF8.self)
      let l = symbol(left)
      let r = symbol(right)
      let key = UInt64(UInt32(bitPattern: l)) << 32 | UInt64(UInt32(bitPattern: r))
      if table[key] == nil {
        table[key] = Merge(rank: Int32(rank), result: symbol(left + right))
      }
    }
    merges = table
    extraSymbolBytes = extraBytes
  }

  /// Appends the token ids of the UTF-8 text `utf8` (which holds no special tokens) to `output`.
  func encode(_ utf8: ArraySlice<UInt8>, into output: inout [Int32], workspace w: inout BPEWorkspace) {
    utf8.withUnsafeBufferPointer { w.pre.load($0) }
    preTokenizer.chunk(&w.pre)
    var start = 0
    for end in w.pre.ends {
      let lower = utf8.startIndex + Int(w.pre.byteStarts[start])
      let upper = utf8.startIndex + Int(w.pre.byteStarts[Int(end)])
      start = Int(end)
      if ignoresMerges, let id = wholeWord(utf8[lower..<upper], &w) {
        output.append(id)
        continue
      }
      mergeChunk(utf8[lower..<upper], into: &output, workspace: &w)
    }
  }

  /// The token whose text is the whole chunk (in the GPT-2 byte encoding), if there is one.
  private func wholeWord(_ chunk: ArraySlice<UInt8>, _ w: inout BPEWorkspace) -> Int32? {
    w.encoded.removeAll(keepingCapacity: true)
    for b in chunk { ByteUnicodeMap.appendEncoded(b, to: &w.encoded) }
    return w.encoded.withUnsafeBufferPointer { table.id($0) }
  }

  private func mergeChunk(
    _ chunk: ArraySlice<UInt8>, into output: inout [Int32], workspace w: inout BPEWorkspace
  ) {
    let n = chunk.count
    if n == 1 {
      emit(byteSymbols[Int(chunk.first!)], into: &output)
      return
    }
    // Doubly linked list over the byte positions; a merged-away symbol gets -1.
    w.symbols.removeAll(keepingCapacity: true)
    w.previous.removeAll(keepingCapacity: true)
    w.next.removeAll(keepingCapacity: true)
    for (i, b) in chunk.enumerated() {
      w.symbols.append(byteSymbols[Int(b)])
      w.previous.append(Int32(i - 1))
      w.next.append(Int32(i + 1))
    }
    w.queue.removeAll()
    for i in 0..<(n - 1) { enqueuePair(Int32(i), Int32(i + 1), &w) }

    while let c = w.queue.popMin() {
      let left = Int(c.left)
      let right = Int(c.right)
      // Stale entries are skipped: either side has changed since the pair was queued.
      guard w.symbols[left] == c.leftSymbol, w.symbols[right] == c.rightSymbol,
        w.next[left] == c.right
      else { continue }
      w.symbols[left] = c.result
      w.symbols[right] = -1
      let after = w.next[right]
      w.next[left] = after
      if after < n { w.previous[Int(after)] = c.left }
      let before = w.previous[left]
      if before >= 0 { enqueuePair(before, c.left, &w) }
      if after < n { enqueuePair(c.left, after, &w) }
    }

    var i: Int32 = 0
    while i < n {
      emit(w.symbols[Int(i)], into: &output)
      i = w.next[Int(i)]
    }
  }

  @inline(__always)
  private func enqueuePair(_ left: Int32, _ right: Int32, _ w: inout BPEWorkspace) {
    let l = w.symbols[Int(left)]
    let r = w.symbols[Int(right)]
    let key = UInt64(UInt32(bitPattern: l)) << 32 | UInt64(UInt32(bitPattern: r))
    guard let m = merges[key] else { return }
    w.queue.insert(
      MergeCandidate(
        priority: UInt64(UInt32(m.rank)) << 32 | UInt64(UInt32(left)),
        left: left, right: right, leftSymbol: l, rightSymbol: r, result: m.result))
  }

  /// Emits a final symbol. For one the vocabulary lacks, llama.cpp looks up each byte of the
  /// symbol's GPT-2 text as a one-byte token: only bytes 0x21…0x7E are their own GPT-2 character
  /// (the rest are two bytes there), so only those can be spelled; the others are dropped.
  @inline(__always)
  private func emit(_ symbol: Int32, into output: inout [Int32]) {
    if symbol < vocabularyCount {
      output.append(symbol)
      return
    }
    for b in extraSymbolBytes[Int(symbol - vocabularyCount)] where b >= 0x21 && b <= 0x7E {
      let s = byteSymbols[Int(b)]
      if s < vocabularyCount { output.append(s) }
    }
  }
}

/// A queued merge of two adjacent symbols; ordered by merge rank, then leftmost position.
struct MergeCandidate: Prioritized {
  var priority: UInt64
  var left: Int32
  var right: Int32
  var leftSymbol: Int32
  var rightSymbol: Int32
  var result: Int32
}

/// Buffers reused across the chunks of one `encode` call so each chunk does not reallocate.
struct BPEWorkspace {
  var pre = PreTokenizerWorkspace()
  /// A chunk in the GPT-2 byte encoding, as UTF-8.
  var encoded: [UInt8] = []
  var symbols: [Int32] = []
  var previous: [Int32] = []
  var next: [Int32] = []
  var queue = MinHeap<MergeCandidate>()
}
