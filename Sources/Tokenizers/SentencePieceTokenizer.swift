/// SentencePiece BPE as llama.cpp runs it for `tokenizer.ggml.model = llama`: spaces become
/// `▁` (U+2581), the text is split into UTF-8 characters, and the adjacent pair whose
/// concatenation is the highest-scoring vocabulary token is merged until no adjacent pair forms a
/// token. A final piece the vocabulary lacks (only ever a single character) is spelled with
/// `<0xNN>` byte tokens.
///
/// The model has no merge list: any vocabulary token can be the result of a merge, scored by
/// `tokenizer.ggml.scores`. Ties go to the leftmost pair.
struct SentencePieceTokenizer: Sendable {
  private let table: TokenTable
  /// Score of each token id.
  private let scores: [Float]
  /// The token that spells each byte value on its own: `<0xNN>`, else the one-byte text; -1 if
  /// neither exists.
  private let byteTokens: [Int32]
  /// Used for a byte no token can spell (llama.cpp would stop with an exception).
  private let unknownID: Int32?
  /// `tokenizer.ggml.add_space_prefix`: put a space before text that starts the input or follows
  /// a special token.
  let addSpacePrefix: Bool

  init(vocabulary v: TokenizerVocabulary, table: TokenTable) {
    self.table = table
    if let s = v.scores, s.count == table.count {
      scores = s
    } else {
      scores = [Float](repeating: 0, count: table.count)
    }
    let hex = Array("0123456789ABCDEF".utf8)
    byteTokens = (0..<256).map { b in
      let name: [UInt8] = [0x3C, 0x30, 0x78, hex[b >> 4], hex[b & 15], 0x3E]  // "<0xAB>"
      if let id = name.withUnsafeBufferPointer({ table.id($0) }) { return id }
      return [UInt8(b)].withUnsafeBufferPointer { table.id($0) } ?? -1
    }
    unknownID = v.unknownID
    addSpacePrefix = v.addSpacePrefix
  }

  /// Appends the ids of `utf8` (literal text between special tokens) to `output`.
  /// - Parameter prefixSpace: put one space before the text first (see `addSpacePrefix`).
  func encode(
    _ utf8: ArraySlice<UInt8>, prefixSpace: Bool, into output: inout [Int32],
    workspace w: inout SentencePieceWorkspace
  ) {
    // Escape: every space becomes ▁ (E2 96 81).
    w.text.removeAll(keepingCapacity: true)
    if prefixSpace { w.appendLowerBlock() }
    for b in utf8 {
      if b == 0x20 {
        w.appendLowerBlock()
      } else {
        w.text.append(b)
      }
    }
    guard !w.text.isEmpty else { return }

    // One symbol per UTF-8 character, its length read from the lead byte alone, in a doubly
    // linked list; a symbol merged into its left neighbour gets length 0.
    w.start.removeAll(keepingCapacity: true)
    w.length.removeAll(keepingCapacity: true)
    w.previous.removeAll(keepingCapacity: true)
    w.next.removeAll(keepingCapacity: true)
    let n = w.text.count
    var offset = 0
    while offset < n {
      let width = min(SentencePieceTokenizer.sequenceLength(w.text[offset]), n - offset)
      w.previous.append(Int32(w.start.count - 1))
      w.start.append(Int32(offset))
      w.length.append(Int32(width))
      offset += width
      w.next.append(offset == n ? -1 : Int32(w.start.count))
    }

    w.queue.removeAll()
    // A second reference (not a copy: nothing writes `w.text` below) so the loop can take `w`
    // inout while reading the text.
    let escaped = w.text
    escaped.withUnsafeBufferPointer { text in
      for i in 1..<max(1, w.start.count) { addPair(Int32(i - 1), Int32(i), text, &w) }
      while let pair = w.queue.popMin() {
        let left = Int(pair.left)
        let right = Int(pair.right)
        // Stale entries are skipped. A symbol only ever grows by absorbing its right
        // neighbour, so unchanged lengths mean both sides are still what was queued.
        guard w.length[left] > 0, w.length[right] > 0, w.length[left] + w.length[right] == pair.length
        else { continue }
        w.length[left] += w.length[right]
        w.length[right] = 0
        let after = w.next[right]
        w.next[left] = after
        if after >= 0 { w.previous[Int(after)] = pair.left }
        addPair(w.previous[left], pair.left, text, &w)
        addPair(pair.left, after, text, &w)
      }

      var i: Int32 = 0
      while i >= 0 {
        let s = Int(w.start[Int(i)])
        let count = Int(w.length[Int(i)])
        if let id = table.id(UnsafeBufferPointer(rebasing: text[s..<(s + count)])) {
          output.append(id)
        } else {
          // Only a lone character can miss the vocabulary: every merge formed a token.
          for b in text[s..<(s + count)] {
            let id = byteTokens[Int(b)]
            if id >= 0 {
              output.append(id)
            } else if let unknownID {
              output.append(unknownID)
            }
          }
        }
        i = w.next[Int(i)]
      }
    }
  }

  /// Queues the merge of two adjacent symbols if their joined text is a token.
  @inline(__always)
  private func addPair(
    _ left: Int32, _ right: Int32, _ text: UnsafeBufferPointer<UInt8>, _ w: inout SentencePieceWorkspace
  ) {
    guard left >= 0, right >= 0 else { return }
    let s = Int(w.start[Int(left)])
    let length = w.length[Int(left)] + w.length[Int(right)]
    guard let id = table.id(UnsafeBufferPointer(rebasing: text[s..<(s + Int(length))])) else { return }
    w.queue.insert(
      SentencePiecePair(
        priority: SentencePiecePair.priority(score: scores[Int(id)], left: left),
        left: left, right: right, length: length))
  }

  /// Bytes in the UTF-8 sequence a lead byte starts; a stray continuation byte counts as one.
  @inline(__always)
  static func sequenceLength(_ lead: UInt8) -> Int {
    switch lead >> 4 {
    case 0xC, 0xD: 2
    case 0xE: 3
    case 0xF: 4
    default: 1
    }
  }
}

/// A queued merge of two adjacent symbols: higher score first, then the leftmost.
struct SentencePiecePair: Prioritized {
  var priority: UInt64
  var left: Int32
  var right: Int32
  /// Bytes of the merged text, to recognise stale entries.
  var length: Int32

  /// Packs "score descending, then left ascending" into one key for a min-heap.
  @inline(__always)
  static func priority(score: Float, left: Int32) -> UInt64 {
    // -0 and +0 compare equal as floats, so they must share a key.
    let bits = (score == 0 ? Float(0) : score).bitPattern
    // Order-preserving map of the float onto unsigned integers, then inverted for descending.
    let ascending = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    return UInt64(~ascending) << 32 | UInt64(UInt32(bitPattern: left))
  }
}

/// Buffers reused across the fragments of one `encode` call.
struct SentencePieceWorkspace {
  /// The escaped fragment being tokenized.
  var text: [UInt8] = []
  /// Per symbol: byte offset into `text`, byte length, and list links (-1 for none).
  var start: [Int32] = []
  var length: [Int32] = []
  var previous: [Int32] = []
  var next: [Int32] = []
  var queue = MinHeap<SentencePiecePair>()

  /// Appends ▁ (U+2581), SentencePiece's visible space.
  @inline(__always)
  mutating func appendLowerBlock() {
    text.append(0xE2)
    text.append(0x96)
    text.append(0x81)
  }
}
