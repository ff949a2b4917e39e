import Kernels
import Models
/// Limits the scheduler works within.
public struct SchedulerConfiguration: Sendable, Equatable {
  /// Tokens (decodes plus prefill chunks) one step may process: bounds a step's latency.
  public var maxBatchTokens = 256
  /// Sequences in one step at most.
  public var maxRunning = 64
  /// Requests waiting for admission at most; beyond it `add` refuses with `queueFull`.
  public var maxWaiting = 256
  public var blockSize = 16
  public var blockCount = 1024
  public var prefixCaching = true
  public var contextLength = 8192
  /// Tokens a step gives background requests (priority below 0: batch lines) when nothing else
  /// runs. They get none while any foreground request is running or waiting, so an interactive
  /// arrival waits at most one short background step; small, because that step is its delay.
  public var backgroundStepTokens = 32
  /// Draft tokens are added to a step only while it holds fewer tokens than this in total.
  public var speculativeStepTokens = 4
  /// The model's summation order: decides which positions attend with f16 accumulators, which is
  /// part of a cached block's identity.
  public var numerics = Numerics.exact
  /// Whether the model picks a position's matrix-product order from the prompt length
  /// (`LanguageModel.ordersByPromptLength`): then slices carry the prompt length and a cached block's
  /// identity includes its positions' order pattern (`BatchSlice.batchedOrderCode`).
  public var ordersByPromptLength = false
  /// Whether those orders follow llama.cpp's checkpoint cuts of the prompt
  /// (`LanguageModel.referenceCheckpointCuts`).
  public var orderCheckpointCuts = true
  /// How the KV cache stores rows: under `.q8_0` every position attends in f32 (`halfAttentionFrom`
  /// = Int.max, as under `Numerics.fast`), which prefix-block hashes then record.
  public var kvCacheType = KVCacheType.f16
  /// Sliding window of the model's windowed layers (positions attended, itself included) when they
  /// keep a block pool of their own; nil: every layer keeps every position in the one pool.
  public var window: Int? = nil
  /// Blocks of the windowed layers' pool (used only with `window`).
  public var windowBlockCount = 0

  public init() {}

  /// Window-pool blocks one sequence can hold at once: the blocks covering its window behind the
  /// next position, plus a step's chunk (and its drafts) ahead of it. A window pool at least this
  /// large lets any admitted request run alone.
  public var windowBlocksPerSequence: Int {
    guard let window else { return 0 }
    return (window + maxBatchTokens + blockSize - 1) / blockSize + 1
  }
}

/// One sequence's work in a step: compute `count` tokens from position `start` into `blockTable`.
public struct ScheduledChunk: Sendable, Equatable {
  public var id: String
  public var start: Int
  /// Known tokens, plus the drafts when there are any.
  public var count: Int
  public var blockTable: [Int32]
  /// Window-pool blocks for the model's sliding-window layers, indexed like `blockTable` (-1 for
  /// blocks wholly behind the window); nil when there is no window pool.
  public var windowTable: [Int32]?
  /// The chunk reaches the last known token, so the step's logits for it pick the next token.
  public var samples: Bool
  /// Speculative tokens computed after the decode's last known token (positions
  /// `start + 1 ..< start + count`); the step needs logits for every position of such a chunk.
  public var drafts: [Int32] = []
}

/// What one step runs, and what changed to make room for it.
public struct SchedulerOutput: Sendable, Equatable {
  public var chunks: [ScheduledChunk] = []
  /// Requests sent back to the queue, blocks freed, to be recomputed later.
  public var preempted: [String] = []
  /// Requests scheduled for the first time.
  public var started: [String] = []

  public var isEmpty: Bool { chunks.isEmpty }
  public var tokenCount: Int { chunks.reduce(0) { $0 + $1.count } }
}

/// The scheduler's view of one request (catch-up model): `tokens` known, the first `computed` of
/// them already in the KV cache.
struct SequenceRecord {
  let id: String
  var tokens: [Int32]  // prompt, then generated
  let promptCount: Int
  let maxLength: Int  // prompt + max tokens
  let priority: Int
  let arrival: Int
  let salt: String?
  /// Where half-accumulator attention starts (`BatchSlice.halfAttentionFrom`), from the prompt length.
  let halfAttentionFrom: Int
  /// The prompt length that fixes each position's batched matrix-product order
  /// (`BatchSlice.orderPromptLength`).
  let orderPromptLength: Int
  /// The batched-order rule's checkpoint cuts (`SchedulerConfiguration.orderCheckpointCuts`).
  var orderCheckpointCuts = true
  var computed = 0
  var blockTable: [Int32] = []
  /// Window-pool blocks, as long as `blockTable`; -1 once released (wholly behind the window).
  var windowTable: [Int32] = []
  /// Window-pool entries below this index are all released.
  var windowReleased = 0
  var blockHashes: [BlockHash] = []  // of the first blockHashes.count full blocks, registered
  var drafts: [Int32] = []  // scheduled this step, awaiting acceptDrafts
  var cachedPromptTokens = 0
  var preemptions = 0
  var everScheduled = false

  var remaining: Int { tokens.count - computed }

  /// Runs only in capacity foreground requests leave (batch lines).
  var isBackground: Bool { priority < 0 }

  /// Earlier = scheduled first: higher priority, then earlier arrival.
  func precedes(_ other: SequenceRecord) -> Bool {
    priority != other.priority ? priority > other.priority : arrival < other.arrival
  }

  /// Block `i`'s arithmetic variant (how many of its positions attend in f32, and which take
  /// llama.cpp's batched matrix-product order), part of its hash.
  func variant(ofBlock i: Int, _ blockSize: Int) -> Int {
    let order = BatchSlice.batchedOrderCode(
      start: i * blockSize, count: blockSize, promptLength: orderPromptLength, checkpointCuts: orderCheckpointCuts)
    return order &* (blockSize + 1)
      &+ BatchSlice.fullPrecisionCount(start: i * blockSize, count: blockSize, halfAttentionFrom: halfAttentionFrom)
  }
}
