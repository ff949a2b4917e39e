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
  /// running sum, see `attendHeadHalfReference`); earlier ones with the faster f32 kernel. Set it
  /// from the sequence's prompt length with `halfAttentionStart(promptLength:)` so a token's
  /// arithmetic never depends on how the scheduler batched or chunked it.
  public var halfAttentionFrom: Int

  public init(
    tokenOffset: Int, tokenCount: Int, startPosition: Int, blockTable: [Int32], logits: LogitsSelection?,
    halfAttentionFrom: Int = 0, windowTable: [Int32]? = nil
  ) {
    self.tokenOffset = tokenOffset
    self.tokenCount = tokenCount
    self.startPosition = startPosition
    self.blockTable = blockTable
    self.windowTable = windowTable
    self.logits = logits
    self.halfAttentionFrom = halfAttentionFrom
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
    halfAttentionFrom: Int = 0, windowTable: [Int32]? = nil
  ) {
    slices.append(
      BatchSlice(
        tokenOffset: tokens.count, tokenCount: newTokens.count, startPosition: startPosition,
        blockTable: blockTable, logits: logits, halfAttentionFrom: halfAttentionFrom, windowTable: windowTable))
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
