import GGUF
import Kernels

/// One sequence's share of a batched forward pass: `tokenCount` tokens starting at `tokenOffset` in the
/// batch, at positions `startPosition..<startPosition + tokenCount` of that sequence.
public struct BatchSlice: Sendable, Equatable {
  public var tokenOffset: Int
  public var tokenCount: Int
  public var startPosition: Int
  /// Cache blocks holding this sequence's positions in order (`blockTable[p / blockSize]` holds
  /// position p); must already cover `startPosition + tokenCount` positions.
  public var blockTable: [Int32]
  /// Blocks of the cache's window region for its sliding-window layers, indexed like `blockTable`;
  /// needed only when the cache has that region. Entries of blocks lying wholly before the window of
  /// the slice's first position may be -1: they are never read or written.
  public var windowTable: [Int32]?
  /// Which of this slice's positions need logits; nil for none (a prefill chunk that is not the last).
  public var logits: LogitsSelection?
  /// Positions from here on attend with llama.cpp's flash-attention arithmetic (f16 query, f16
  /// running sum, see `attendHeadHalfReference`); earlier ones (the prompt's) with the tiled f32
  /// kernel, `attendRows`. `Int.max` means f32 everywhere, one token at a time (`Numerics.fast`, a
  /// Q8_0 cache). Set it from the sequence's prompt length with `halfAttentionStart(promptLength:)` so
  /// a token's arithmetic never depends on how the scheduler batched or chunked it.
  public var halfAttentionFrom: Int
  /// The sequence's prompt length (0 if unknown: every position counts as generated). It fixes how
  /// llama.cpp would have batched each prompt position (`referenceBatched`), so a position's arithmetic
  /// never depends on how the scheduler batched or chunked it.
  public var promptLength: Int

  public init(
    tokenOffset: Int, tokenCount: Int, startPosition: Int, blockTable: [Int32], logits: LogitsSelection?,
    halfAttentionFrom: Int = 0, promptLength: Int = 0, windowTable: [Int32]? = nil
  ) {
    self.tokenOffset = tokenOffset
    self.tokenCount = tokenCount
    self.startPosition = startPosition
    self.blockTable = blockTable
    self.windowTable = windowTable
    self.logits = logits
    self.halfAttentionFrom = halfAttentionFrom
    self.promptLength = promptLength
  }

  /// The micro-batch llama.cpp's server (the fixtures' reference) evaluated prompt position `position`
  /// in, as its first position and size: batches hold at most 2,048 positions (`n_batch`), and each
  /// batch runs in micro-batches of 512 (`n_ubatch`). With `checkpointCuts` (a sliding-window model
  /// such as Gemma 3, whose context it checkpoints) it also ends a batch 516 and 4 positions before
  /// the prompt's end; a model without windowed layers (Llama) gets no cuts.
  public static func referenceMicroBatch(
    containing position: Int, promptLength: Int, checkpointCuts: Bool = true
  ) -> (first: Int, count: Int) {
    let batchLimit = 2048
    let microBatch = 512
    let cuts = checkpointCuts ? [promptLength - microBatch - 4, promptLength - 4] : []
    var start = 0
    while start < promptLength {
      var end = min(start + batchLimit, promptLength)
      for cut in cuts where cut > start && cut < end {
        end = cut
        break
      }
      if position < end {
        let first = start + (position - start) / microBatch * microBatch
        return (first, min(microBatch, end - first))
      }
      start = end
    }
    return (position, 1)
  }

  /// Whether llama.cpp multiplied prompt position `position` (of a `promptLength`-token prompt) by a
  /// `type` weight matrix as part of a batch, with its batched float order (`PG_BATCHED`), rather than
  /// alone like every generated token (micro-batches as `referenceMicroBatch`). Q4_K (repacked) rows
  /// go through its four-row kernel in groups of four, the `count % 4` left over through its one-row
  /// kernel; Q5_K and Q6_K go through its tiled kernel when the micro-batch has 8+ rows.
  public static func referenceBatched(
    _ type: GGMLType, position: Int, promptLength: Int, checkpointCuts: Bool = true
  ) -> Bool {
    guard position >= 0, position < promptLength else { return false }
    let (first, count) = referenceMicroBatch(
      containing: position, promptLength: promptLength, checkpointCuts: checkpointCuts)
    switch type {
    case .q4_K: return position - first < count - count % 4
    case .q5_K, .q6_K: return count >= 8
    default: return false
    }
  }

  /// Whether llama.cpp multiplied prompt position `position` (of a `promptLength`-token prompt) by an
  /// F32 weight matrix together with other rows — llamafile's tiled kernel, a different float order
  /// from the one-row product every generated token takes — for a model without sliding-window
  /// layers: llama-server and llama-perplexity run such a prompt in batches of 2,048 positions split
  /// into micro-batches of 512 from the start, so only a micro-batch of one position runs alone.
  public static func referenceBatchedFloat(position: Int, promptLength: Int) -> Bool {
    guard position >= 0, position < promptLength else { return false }
    return referenceMicroBatch(containing: position, promptLength: promptLength, checkpointCuts: false).count >= 2
  }

  /// The `promptLength` a sequence's slices carry: the prompt's length under `.exact`, 0 under `.fast`
  /// (whose matrix products take one order for every position, so no position is `referenceBatched`).
  public static func orderPromptLength(promptLength: Int, numerics: Numerics) -> Int {
    numerics == .fast ? 0 : promptLength
  }

  /// Where half-accumulator attention starts for a sequence whose prompt has `promptLength` tokens.
  ///
  /// llama.cpp (whose outputs are the correctness reference) attends with f16 accumulators for every
  /// decode step and for prompts shorter than 64 tokens, and with an f32 tiled kernel for longer
  /// prompts. Following the same rule makes short-prompt and generated tokens bit-identical to it,
  /// and keeps long prompts on the fast kernel. Under `Numerics.fast` every position takes the f32
  /// kernel.
  public static func halfAttentionStart(promptLength: Int, numerics: Numerics) -> Int {
    if numerics == .fast { return Int.max }
    return promptLength >= 64 ? promptLength : 0
  }

  /// How many of the positions `start..<start + count` use the f32 kernel under `halfAttentionFrom`
  /// (part of a cached block's identity: the same tokens computed the other way differ in low bits).
  public static func fullPrecisionCount(start: Int, count: Int, halfAttentionFrom: Int) -> Int {
    max(0, min(start + count, halfAttentionFrom) - start)
  }

  /// The batched-order pattern of positions `start..<start + count` (`referenceBatched` for Q4_K and
  /// Q6_K, `referenceBatchedFloat` for F32), as a number: part of a cached block's identity, since
  /// the same tokens computed in the other order differ in low bits. Three bits per position, so the
  /// code is exact for blocks of up to 21 positions (0 when no position is batched); longer blocks
  /// wrap, and a collision is then as unlikely as a 64-bit hash collision.
  public static func batchedOrderCode(start: Int, count: Int, promptLength: Int, checkpointCuts: Bool = true) -> Int {
    var code = 0
    for p in start..<(start + count) {
      let q4 = referenceBatched(.q4_K, position: p, promptLength: promptLength, checkpointCuts: checkpointCuts) ? 1 : 0
      let q6 = referenceBatched(.q6_K, position: p, promptLength: promptLength, checkpointCuts: checkpointCuts) ? 2 : 0
      let f32 = referenceBatchedFloat(position: p, promptLength: promptLength) ? 4 : 0
      code = code &* 8 &+ q4 &+ q6 &+ f32
    }
    return code
  }

  /// Logit rows this slice contributes.
  public var logitRows: Int {
    switch logits {
    case nil: 0
    case .last: 1
    case .all: tokenCount
    }
  }
}

/// The tokens of several sequences processed in one pass over the weights.
public struct ForwardBatch: Sendable, Equatable {
  public var tokens: [Int32]  // [nTokens]
  public var slices: [BatchSlice]

  public init(tokens: [Int32] = [], slices: [BatchSlice] = []) {
    self.tokens = tokens
    self.slices = slices
  }

  /// Appends a sequence's tokens as a new slice.
  public mutating func append(
    _ newTokens: some Collection<Int32>, startPosition: Int, blockTable: [Int32], logits: LogitsSelection?,
    halfAttentionFrom: Int = 0, promptLength: Int = 0, windowTable: [Int32]? = nil
  ) {
    slices.append(
      BatchSlice(
        tokenOffset: tokens.count, tokenCount: newTokens.count, startPosition: startPosition,
        blockTable: blockTable, logits: logits, halfAttentionFrom: halfAttentionFrom, promptLength: promptLength,
        windowTable: windowTable))
    tokens.append(contentsOf: newTokens)
  }

  /// Logit rows the pass returns, slice by slice in order.
  public var logitRows: Int { slices.reduce(0) { $0 + $1.logitRows } }

  /// Checks the batch against a model and cache before any work is done.
  public func validate(vocabularySize: Int, contextLength: Int, cache: PagedKVCache) throws(ModelError) {
    guard !tokens.isEmpty, !slices.isEmpty else { throw .emptyInput }
    var covered = 0
    for s in slices {
      guard s.tokenCount > 0, s.tokenOffset == covered else { throw .emptyInput }
      covered += s.tokenCount
      let end = s.startPosition + s.tokenCount
      guard s.startPosition >= 0, end <= contextLength else {
        throw .contextFull(needed: end, capacity: contextLength)
      }
      guard s.blockTable.count * cache.blockSize >= end else {
        throw .contextFull(needed: end, capacity: s.blockTable.count * cache.blockSize)
      }
      for b in s.blockTable where b < 0 || Int(b) >= cache.blockCount {
        throw .invalidHyperparameter("block id \(b) outside the cache (0..<\(cache.blockCount))")
      }
      if let window = cache.window {
        // Windowed layers read back to the window of the slice's first position and write the rest.
        guard let table = s.windowTable, table.count * cache.blockSize >= end else {
          throw .invalidHyperparameter("a slice lacks window blocks for positions up to \(end)")
        }
        let first = max(0, s.startPosition - window + 1) / cache.blockSize
        for (i, b) in table.enumerated() where b >= cache.windowBlockCount || (b < 0 && (b != -1 || i >= first)) {
          throw .invalidHyperparameter("window block id \(b) at \(i) outside the cache (0..<\(cache.windowBlockCount))")
        }
      }
    }
    guard covered == tokens.count else { throw .emptyInput }
    for id in tokens where id < 0 || Int(id) >= vocabularySize {
      throw .invalidToken(id, vocabularySize: vocabularySize)
    }
  }
}
