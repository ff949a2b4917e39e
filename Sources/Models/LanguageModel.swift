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
  /// Runs every slice of `batch` in one pass over the weights: writes each token's keys and values
  /// into `cache` through its slice's block table, attends over the slice's earlier positions, and
  /// returns the logit rows the slices select, in slice order. `scratch` is the caller's working
  /// memory (one per concurrent caller).
  func forward(_ batch: ForwardBatch, cache: PagedKVCache, scratch: ScratchArena) throws(ModelError) -> Logits
}

/// The state of one sequence run outside the engine (CLI, perplexity, tests): a private cache whose
/// blocks are all this sequence's, in order.
public final class ModelState: @unchecked Sendable {
  public static let blockSize = 16
  public let cache: PagedKVCache
  let blockTable: [Int32]
  let scratch = ScratchArena()
  /// Tokens processed so far (the next token's position).
  public internal(set) var position = 0
  /// Where half-accumulator attention starts (see `BatchSlice.halfAttentionFrom`), fixed by the first
  /// forward call after a reset: that call is taken to be the prompt.
  var halfAttentionFrom: Int?
  /// The prompt length (`BatchSlice.promptLength`), fixed the same way.
  var promptLength = 0
  /// Positions this state can hold.
  public var capacity: Int { blockTable.count * cache.blockSize }

  /// Windowed layers keep every position here too (one sequence, no window region: simplest, and a
  /// single sequence's full history is what `run` and perplexity size for anyway).
  init(layout: KVLayout, capacity: Int, type: KVCacheType = .f16) {
    let blocks = max(1, (capacity + Self.blockSize - 1) / Self.blockSize)
    cache = PagedKVCache(
      layout: KVLayout(layers: layout.layers, kvDim: layout.kvDim, headDim: layout.headDim), blockSize: Self.blockSize,
      blockCount: blocks, type: type)
    blockTable = (0..<Int32(blocks)).map { $0 }
  }

  /// Drops every position from `position` on (to rewind, e.g. to re-run part of a prompt).
  public func truncate(to newPosition: Int) {
    position = min(position, max(0, newPosition))
    if position == 0 { halfAttentionFrom = nil }
  }
}

extension LanguageModel {
  public var ordersByPromptLength: Bool { false }

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
    var batch = ForwardBatch()
    batch.append(
      tokens, startPosition: state.position, blockTable: state.blockTable, logits: logits,
      halfAttentionFrom: state.halfAttentionFrom ?? 0, promptLength: state.promptLength)
    let result = try forward(batch, cache: state.cache, scratch: state.scratch)
    state.position = end
    return result
  }
}
