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
    // A prompt's tokens give enough tasks to take a whole query group per task, which lets the
    // AVX-512 kernel widen each key and value row once for the group (groups of 4 heads; others run
    // per head inside `attendHeads`, as before). A few tokens keep one head per task, so a decode
    // step still spreads its heads over the threads.
    let group = heads / kvHeads
    let grouped = n >= 8 && group % 4 == 0
    let tasks = grouped ? n * kvHeads : n * heads
    let job = AttentionJob(
      attention: self, q: q, out: out, batch: batch, placement: placement, keyBase: cache.keyBase(layer: layer),
      valueBase: cache.valueBase(layer: layer), kvDim: cache.kvDim, blockSize: cache.blockSize,
      blockStride: cache.blockStride, grouped: grouped, tasks: tasks, parts: max(1, min(pool.threadCount * 4, tasks)))
    pool.parallelFor(job.parts, job: job)
  }
}

/// One (token, head) attention per task, tasks split into `parts` contiguous ranges; a value type
/// so a parallel region allocates nothing.
private struct AttentionJob: ParallelJob {
  let attention: CausalAttention
  let q: UnsafePointer<Float>  // [nTokens, heads, headDim]
  let out: UnsafeMutablePointer<Float>  // [nTokens, heads, headDim]
  let batch: ForwardBatch
  let placement: TokenPlacement
  let keyBase: UnsafeMutablePointer<Float16>
  let valueBase: UnsafeMutablePointer<Float16>
  let kvDim: Int
  let blockSize: Int
  let blockStride: Int
  /// One task per (token, KV head) for all its query heads, else one per (token, query head).
  let grouped: Bool
  let tasks: Int
  let parts: Int

  func run(_ part: Int) {
    let heads = attention.heads
    let headDim = attention.headDim
    let group = heads / attention.kvHeads
    let qDim = heads * headDim
    if grouped {
      let kvHeads = attention.kvHeads
      for task in (tasks * part / parts)..<(tasks * (part + 1) / parts) {
        let t = task / kvHeads
        let g = task % kvHeads
        let first = t * qDim + g * group * headDim  // the group's query heads are adjacent
        batch.slices[placement.slice[t]].blockTable.withUnsafeBufferPointer { table in
          let view = PagedHeadView(
            keys: keyBase + g * headDim, values: valueBase + g * headDim, blockTable: table.baseAddress!,
            blockSize: blockSize, blockStride: blockStride, rowStride: kvDim)
          attendHeads(
            queries: q + first, queryStride: headDim, count: group, kv: view, position: placement.position[t],
            window: attention.window, headDim: headDim, scale: attention.scale, out: out + first, outStride: headDim)
        }
      }
      return
    }
    for task in (tasks * part / parts)..<(tasks * (part + 1) / parts) {
      let t = task / heads
      let h = task % heads
      let kvOffset = (h / group) * headDim
      batch.slices[placement.slice[t]].blockTable.withUnsafeBufferPointer { table in
        let view = PagedHeadView(
          keys: keyBase + kvOffset, values: valueBase + kvOffset, blockTable: table.baseAddress!,
          blockSize: blockSize, blockStride: blockStride, rowStride: kvDim)
        attendHead(
          query: q + t * qDim + h * headDim, kv: view, position: placement.position[t], window: attention.window,
          headDim: headDim, scale: attention.scale, out: out + t * qDim + h * headDim)
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
  for t in tokens ?? 0..<batch.tokens.count {
    let p = placement.position[t]
    let block = batch.slices[placement.slice[t]].blockTable[p / blockSize]
    let kd = cache.keys(layer: layer, block: block, slot: p % blockSize)
    let vd = cache.values(layer: layer, block: block, slot: p % blockSize)
    for i in 0..<kvDim {
      kd[i] = Float16(k[t * kvDim + i])
      vd[i] = Float16(v[t * kvDim + i])
    }
  }
}
