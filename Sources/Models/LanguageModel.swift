import GGUF
import Kernels

/// What callers need to know about a loaded model.
public struct ModelInfo: Sendable, Equatable {
  public var architecture: String
  public var name: String
  public var vocabularySize: Int
  public var contextLength: Int
  public var layers: Int
  public var embeddingLength: Int
  /// What the loader adjusted and why (e.g. a context capped to this machine's memory): callers
  /// show these to the user.
  public var warnings: [String] = []
}

/// Which positions of a forward pass need logits.
public enum LogitsSelection: Sendable, Equatable {
  case last
  case all
}

/// Logits for `rows` positions, row-major `[rows, vocabularySize]`.
public struct Logits: Sendable {
  public var rows: Int
  public var vocabularySize: Int
  public var values: [Float]

  public func row(_ r: Int) -> ArraySlice<Float> {
    values[(r * vocabularySize)..<((r + 1) * vocabularySize)]
  }
}

/// What a model stores per position and layer, for sizing a `PagedKVCache`.
public struct KVLayout: Sendable, Equatable {
  public var layers: Int
  /// Floats of keys (and, separately, of values) per position and layer: kvHeads × headDim.
  public var kvDim: Int
  /// Values per KV head (kvDim is a whole number of heads); a Q8_0 cache needs a multiple of 32.
  public var headDim: Int
  /// Layers that attend only within a sliding window (`[layers]`, or empty when none do).
  public var windowedLayers: [Bool]
  /// Positions such a layer attends over (itself included); nil when no layer is windowed.
  public var window: Int?

  /// `headDim` nil: one head of `kvDim` values.
  public init(layers: Int, kvDim: Int, headDim: Int? = nil, windowedLayers: [Bool] = [], window: Int? = nil) {
    self.layers = layers
    self.kvDim = kvDim
    self.headDim = headDim ?? kvDim
    self.windowedLayers = window == nil ? [] : windowedLayers
    self.window = windowedLayers.contains(true) ? window : nil
  }

  /// Whether layer `l` attends only within `window`.
  public func isWindowed(_ l: Int) -> Bool { window != nil && l < windowedLayers.count && windowedLayers[l] }

  /// How many layers are windowed.
  public var windowedCount: Int { window == nil ? 0 : windowedLayers.filter { $0 }.count }
}

/// A decoder-only language model: feed tokens, get logits; one file per architecture conforms.
public protocol LanguageModel: AnyObject, Sendable {
  var info: ModelInfo { get }
  var kvLayout: KVLayout { get }
  /// The summation order its kernels follow (fixed at load).
  var numerics: Numerics { get }
  /// Whether a position's matrix-product order depends on its sequence's prompt length
  /// (`BatchSlice.promptLength`, Gemma 3 under `.exact`); false: any block of the same tokens is
  /// interchangeable, whatever prompt it came from.
  var ordersByPromptLength: Bool { get }
  /// Whether llama.cpp's server cuts this model's prompt batches short of the prompt's end to
  /// checkpoint its context (sliding-window models), which changes which positions its batched
  /// kernels take (`BatchSlice.referenceMicroBatch`).
  var referenceCheckpointCuts: Bool { get }
  /// Runs every slice of `batch` in one pass over the weights: writes each token's keys and values
  /// into `cache` through its slice's block table, attends over the slice's earlier positions, and
  /// returns the logit rows the slices select, in slice order. `scratch` is the caller's working
  /// memory (one per concurrent caller).
  func forward(_ batch: ForwardBatch, cache: PagedKVCache, scratch: ScratchArena) throws(ModelError) -> Logits
  /// The weight matrices its products read, for packing them up front (`packWeights`); a model that
  /// lists none packs each matrix on first use.
  var weightMatrices: [WeightMatrix] { get }
}

extension LanguageModel {
  public var weightMatrices: [WeightMatrix] { [] }
}

/// The state of one sequence run outside the engine (CLI, perplexity, tests): a private cache whose
/// full-history blocks are all this sequence's, in order. A model with sliding-window layers keeps
/// those layers in a ring of window blocks instead (`windowRing`): only the window plus one forward
/// call's positions, not the whole history.
public final class ModelState: @unchecked Sendable {
  public static let blockSize = 16
  /// Positions one forward call writes at most when windowed layers use the ring: longer inputs are
  /// run in pieces of this size (the arithmetic never depends on how positions are batched).
  public static let ringChunk = 512
  public let cache: PagedKVCache
  let blockTable: [Int32]
  /// Window-region blocks in the ring (0: windowed layers keep every position in `blockTable`).
  let windowRing: Int
  let scratch = ScratchArena()
  /// Tokens processed so far (the next token's position).
  public internal(set) var position = 0
  /// One past the last position ever written since the last reset: ring blocks of older positions
  /// may have been overwritten.
  var written = 0
  /// Where half-accumulator attention starts (see `BatchSlice.halfAttentionFrom`), fixed by the first
  /// forward call after a reset (that call is taken to be the prompt) or by `reusePrefix`.
  var halfAttentionFrom: Int?
  /// The prompt length (`BatchSlice.promptLength`), fixed the same way.
  var promptLength = 0
  /// Positions this state can hold.
  public var capacity: Int { blockTable.count * cache.blockSize }

  init(layout: KVLayout, capacity: Int, type: KVCacheType = .f16) {
    let bs = Self.blockSize
    let blocks = max(1, (capacity + bs - 1) / bs)
    // A forward call's first position reads back `window − 1` positions and writes up to `ringChunk`:
    // every block from the first read to the last write needs its own slot.
    let ring = layout.window.map { ($0 + Self.ringChunk + bs - 1) / bs + 2 } ?? 0
    windowRing = ring > 0 && ring < blocks ? ring : 0
    cache = PagedKVCache(layout: layout, blockSize: bs, blockCount: blocks, windowBlockCount: windowRing, type: type)
    blockTable = (0..<Int32(blocks)).map { $0 }
  }

  /// The window table of a forward call over positions `start..<end`: block i in ring slot
  /// `i % windowRing`, blocks behind the window of `start` released (-1). Nil without a ring.
  func windowTable(start: Int, end: Int) -> [Int32]? {
    guard windowRing > 0, let window = cache.window else { return nil }
    let first = max(0, start - window + 1) / cache.blockSize
    let count = (end + cache.blockSize - 1) / cache.blockSize
    return (0..<count).map { $0 < first ? -1 : Int32($0 % windowRing) }
  }

  /// Rewinds to `newPosition` (to re-run part of a prompt) and returns the position kept: lower than
  /// asked (0) when the ring no longer holds the window behind `newPosition`; then everything is run
  /// again from there.
  @discardableResult
  public func truncate(to newPosition: Int) -> Int {
    position = min(position, max(0, newPosition))
    if windowRing > 0, let window = cache.window, position > 0 {
      let first = max(0, position - window + 1) / cache.blockSize
      let lastWritten = (written - 1) / cache.blockSize
      if lastWritten - first >= windowRing { position = 0 }
    }
    if position == 0 {
      halfAttentionFrom = nil
      written = 0
    }
    return position
  }
}

extension LanguageModel {
  public var ordersByPromptLength: Bool { false }
  public var referenceCheckpointCuts: Bool { false }

  /// A fresh single-sequence state able to hold `maxTokens` positions (capped at the context length).
  public func makeState(maxTokens: Int) -> ModelState {
    ModelState(layout: kvLayout, capacity: max(1, min(maxTokens, info.contextLength)))
  }

  /// `makeState(maxTokens:)` with keys and values stored as `kvCacheType` (a `.q8_0` state attends
  /// in f32 at every position). Throws when the model's heads do not fit the type.
  public func makeState(maxTokens: Int, kvCacheType: KVCacheType) throws(ModelError) -> ModelState {
    if let reason = kvCacheType.unsupportedReason(headDim: kvLayout.headDim) { throw .invalidHyperparameter(reason) }
    return ModelState(layout: kvLayout, capacity: max(1, min(maxTokens, info.contextLength)), type: kvCacheType)
  }

  /// Readies `state` for a new prompt of `promptLength` tokens whose first `common` tokens equal what
  /// the state holds, and returns how many of those positions it keeps: as many as were computed
  /// exactly as this prompt would compute them. A prompt's length picks, per position, the attention
  /// kernel (`BatchSlice.halfAttentionStart`) and the matrix products' order
  /// (`BatchSlice.batchedOrderCode`); positions the previous prompt computed otherwise are dropped, so
  /// a prompt's outputs never depend on what the state ran before (the engine's prefix cache keeps the
  /// same rule through its blocks' identity).
  public func reusePrefix(of state: ModelState, common: Int, promptLength: Int) -> Int {
    var keep = state.truncate(to: common)
    guard keep > 0, let oldHalf = state.halfAttentionFrom else { return keep }
    let half = BatchSlice.halfAttentionStart(promptLength: promptLength, numerics: numerics)
    let order = BatchSlice.orderPromptLength(promptLength: promptLength, numerics: numerics)
    if oldHalf != half { keep = min(keep, oldHalf, half) }
    if ordersByPromptLength && state.promptLength != order {
      for p in 0..<keep {
        let was = BatchSlice.batchedOrderCode(
          start: p, count: 1, promptLength: state.promptLength, checkpointCuts: referenceCheckpointCuts)
        let will = BatchSlice.batchedOrderCode(
          start: p, count: 1, promptLength: order, checkpointCuts: referenceCheckpointCuts)
        if was != will {
          keep = p
          break
        }
      }
    }
    keep = state.truncate(to: keep)
    if keep > 0 {
      state.halfAttentionFrom = half
      state.promptLength = order
    }
    return keep
  }

  /// Runs `tokens` at positions `state.position...` as one batch, appends them to the state and
  /// returns the logits selected.
  public func forward(_ tokens: [Int32], state: ModelState, logits: LogitsSelection) throws(ModelError) -> Logits {
    guard !tokens.isEmpty else { throw .emptyInput }
    let end = state.position + tokens.count
    guard end <= state.capacity else { throw .contextFull(needed: end, capacity: state.capacity) }
    if state.halfAttentionFrom == nil || state.position == 0 {
      state.halfAttentionFrom = BatchSlice.halfAttentionStart(promptLength: tokens.count, numerics: numerics)
      state.promptLength = BatchSlice.orderPromptLength(promptLength: state.position + tokens.count, numerics: numerics)
    }
    // Past the ring's reach, run the input in pieces; their logits rows are joined.
    let piece = state.windowRing > 0 ? ModelState.ringChunk : tokens.count
    var result: Logits?
    var offset = 0
    while offset < tokens.count {
      let n = min(piece, tokens.count - offset)
      let start = state.position
      let last = offset + n == tokens.count
      var batch = ForwardBatch()
      batch.append(
        tokens[offset..<(offset + n)], startPosition: start, blockTable: state.blockTable,
        logits: logits == .all ? .all : (last ? .last : nil),
        halfAttentionFrom: state.halfAttentionFrom ?? 0, promptLength: state.promptLength,
        windowTable: state.windowTable(start: start, end: start + n))
      let out = try forward(batch, cache: state.cache, scratch: state.scratch)
      state.position = start + n
      state.written = max(state.written, state.position)
      if var joined = result {
        joined.values += out.values
        joined.rows += out.rows
        result = joined
      } else {
        result = out
      }
      offset += n
    }
    guard let result else { throw .emptyInput }
    return result
  }
}
