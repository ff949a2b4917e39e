import Foundation
import Kernels

/// Where each token of a batch sits: its slice and its position in that slice's sequence.
/// Built once per forward pass and shared by every layer.
struct TokenPlacement {
  let slice: [Int]  // [nTokens]
  let position: [Int]  // [nTokens]

  init(_ batch: ForwardBatch) {
    var slice = [Int](repeating: 0, count: batch.tokens.count)
    var position = [Int](repeating: 0, count: batch.tokens.count)
    for (i, s) in batch.slices.enumerated() {
      for j in 0..<s.tokenCount {
        slice[s.tokenOffset + j] = i
        position[s.tokenOffset + j] = s.startPosition + j
      }
    }
    self.slice = slice
    self.position = position
  }
}

/// Grouped-query causal attention for the tokens of a batch, each against its own sequence's
/// positions in the paged cache. Shared by every architecture; the cache must already hold the
/// batch's own keys and values.
struct CausalAttention {
  let heads: Int
  let kvHeads: Int
  let headDim: Int
  let scale: Float
  /// Tokens further back than this are not attended to (sliding-window layers); nil = unlimited.
  let window: Int?

  /// q: [nTokens, heads, headDim]; out: [nTokens, heads, headDim].
  func run(
    q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, batch: ForwardBatch, placement: TokenPlacement,
    layer: Int, cache: PagedKVCache, pool: ThreadPool
  ) {
    let n = batch.tokens.count
    // One task per (token, KV head, share of its query heads). The heads of a task run together:
    // with the half-accumulator arithmetic their position-by-position rounding chains overlap, which
    // is most of its speed. Groups are split only as far as needed to give every thread work.
    let group = heads / kvHeads
    let splits = max(1, min(group, (pool.threadCount + n * kvHeads - 1) / (n * kvHeads)))
    let tasks = n * kvHeads * splits
    let job = AttentionJob(
      attention: self, q: q, out: out, batch: batch, placement: placement, windowed: cache.isWindowed(layer),
      keyBase: cache.keyBase(layer: layer),
      valueBase: cache.valueBase(layer: layer), kvDim: cache.kvDim, blockSize: cache.blockSize,
      blockStride: cache.blockStride, splits: splits, tasks: tasks, parts: max(1, min(pool.threadCount * 4, tasks)))
    pool.parallelFor(job.parts, job: job)
  }
}

/// (token, KV head, head share) tasks split into `parts` contiguous ranges; a value type so a parallel
/// region allocates nothing.
private struct AttentionJob: ParallelJob {
  let attention: CausalAttention
  let q: UnsafePointer<Float>  // [nTokens, heads, headDim]
  let out: UnsafeMutablePointer<Float>  // [nTokens, heads, headDim]
  let batch: ForwardBatch
  let placement: TokenPlacement
  /// The layer lives in the cache's window region: read through the slices' window tables.
  let windowed: Bool
  let keyBase: UnsafeMutablePointer<Float16>
  let valueBase: UnsafeMutablePointer<Float16>
  let kvDim: Int
  let blockSize: Int
  let blockStride: Int
  /// Shares each KV head's query group is split into.
  let splits: Int
  let tasks: Int
  let parts: Int

  func run(_ part: Int) {
    let heads = attention.heads
    let kvHeads = attention.kvHeads
    let headDim = attention.headDim
    let group = heads / kvHeads
    let perTask = (group + splits - 1) / splits
    let qDim = heads * headDim
    for task in (tasks * part / parts)..<(tasks * (part + 1) / parts) {
      let t = task / (kvHeads * splits)
      let g = task / splits % kvHeads
      let firstHead = g * group + task % splits * perTask
      let count = min(perTask, (g + 1) * group - firstHead)
      if count <= 0 { continue }
      let slice = batch.slices[placement.slice[t]]
      let half = placement.position[t] >= slice.halfAttentionFrom
      let offset = t * qDim + firstHead * headDim  // the group's query heads are adjacent
      (windowed ? slice.windowTable! : slice.blockTable).withUnsafeBufferPointer { table in
        let view = PagedHeadView(
          keys: keyBase + g * headDim, values: valueBase + g * headDim, blockTable: table.baseAddress!,
          blockSize: blockSize, blockStride: blockStride, rowStride: kvDim)
        attendHeads(
          queries: q + offset, queryStride: headDim, count: count, kv: view, position: placement.position[t],
          window: attention.window, headDim: headDim, scale: attention.scale, halfAccumulator: half, out: out + offset,
          outStride: headDim)
      }
    }
  }
}

/// Writes each token's keys and values (`[nTokens, kvDim]` floats each) into its sequence's cache slot.
/// `tokens` limits it to a range of the batch (threads store disjoint ranges).
func storeKV(
  _ k: UnsafePointer<Float>, _ v: UnsafePointer<Float>, batch: ForwardBatch, placement: TokenPlacement,
  layer: Int, cache: PagedKVCache, tokens: Range<Int>? = nil
) {
  let kvDim = cache.kvDim
  let blockSize = cache.blockSize
  let windowed = cache.isWindowed(layer)
  for t in tokens ?? 0..<batch.tokens.count {
    let p = placement.position[t]
    let i = placement.slice[t]
    let block = windowed ? batch.slices[i].windowTable![p / blockSize] : batch.slices[i].blockTable[p / blockSize]
    let kd = cache.keys(layer: layer, block: block, slot: p % blockSize)
    let vd = cache.values(layer: layer, block: block, slot: p % blockSize)
    for i in 0..<kvDim {
      kd[i] = Float16(k[t * kvDim + i])
      vd[i] = Float16(v[t * kvDim + i])
    }
  }
}
