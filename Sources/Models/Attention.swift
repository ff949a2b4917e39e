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
      type: cache.type, keyBytes: cache.keyBytes(layer: layer), valueBytes: cache.valueBytes(layer: layer),
      kvDim: cache.kvDim, rowBytes: cache.rowBytes, blockSize: cache.blockSize, splits: splits, tasks: tasks,
      parts: max(1, min(pool.threadCount * 4, tasks)))
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
  let type: KVCacheType
  let keyBytes: UnsafeMutableRawPointer  // [blocks, blockSize, row of rowBytes]
  let valueBytes: UnsafeMutableRawPointer  // [blocks, blockSize, row of rowBytes]
  let kvDim: Int
  let rowBytes: Int
  let blockSize: Int
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
      let offset = t * qDim + firstHead * headDim  // the group's query heads are adjacent
      (windowed ? slice.windowTable! : slice.blockTable).withUnsafeBufferPointer { table in
        switch type {
        case .f16:
          let head = g * headDim  // Float16s into the row
          let view = PagedHeadView(
            keys: keyBytes.assumingMemoryBound(to: Float16.self) + head,
            values: valueBytes.assumingMemoryBound(to: Float16.self) + head, blockTable: table.baseAddress!,
            blockSize: blockSize, blockStride: blockSize * kvDim, rowStride: kvDim)
          attendHeads(
            queries: q + offset, queryStride: headDim, count: count, kv: view, position: placement.position[t],
            window: attention.window, headDim: headDim, scale: attention.scale,
            halfAccumulator: placement.position[t] >= slice.halfAttentionFrom, out: out + offset, outStride: headDim)
        case .q8_0:
          // f32 at every position: llama.cpp's half-accumulator order is only defined for f16 rows.
          let head = g * KVQ8.rowBytes(headDim)  // bytes into the row
          let view = PagedQ8HeadView(
            keys: keyBytes + head, values: valueBytes + head, blockTable: table.baseAddress!, blockSize: blockSize,
            blockStride: blockSize * rowBytes, rowStride: rowBytes)
          attendHeadsQ8(
            queries: q + offset, queryStride: headDim, count: count, kv: view, position: placement.position[t],
            window: attention.window, headDim: headDim, scale: attention.scale, out: out + offset, outStride: headDim)
        }
      }
    }
  }
}

/// Writes each token's keys and values (`[nTokens, kvDim]` floats each) into its sequence's cache slot,
/// rounded to Float16 or quantized to Q8_0 rows as the cache stores them. `tokens` limits it to a
/// range of the batch (threads store disjoint ranges).
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
    let kd = cache.keyRow(layer: layer, block: block, slot: p % blockSize)
    let vd = cache.valueRow(layer: layer, block: block, slot: p % blockSize)
    switch cache.type {
    case .f16:
      let kh = kd.assumingMemoryBound(to: Float16.self)
      let vh = vd.assumingMemoryBound(to: Float16.self)
      for i in 0..<kvDim {
        kh[i] = Float16(k[t * kvDim + i])
        vh[i] = Float16(v[t * kvDim + i])
      }
    case .q8_0:
      // Blocks of 32 along the row never straddle two heads (headDim is a multiple of 32).
      KVQ8.quantizeRow(k + t * kvDim, kd, kvDim)
      KVQ8.quantizeRow(v + t * kvDim, vd, kvDim)
    }
  }
}
