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
    units: AttentionUnits, layer: Int, cache: PagedKVCache, pool: ThreadPool
  ) {
    let n = batch.tokens.count
    let group = heads / kvHeads
    // One task per (unit, KV head, share of its query heads). A single token's heads run together:
    // with the half-accumulator arithmetic their position-by-position rounding chains overlap, which
    // is most of its speed. Its group is split only as far as needed to give every thread work; a
    // tile's group only as far as a tile's 32 rows require.
    let splits = max(1, min(group, (pool.threadCount + n * kvHeads - 1) / (n * kvHeads)), units.tileShares)
    let tasks = units.count * kvHeads * splits
    let job = AttentionJob(
      attention: self, q: q, out: out, batch: batch, placement: placement, units: units,
      windowed: cache.isWindowed(layer), type: cache.type, keyBytes: cache.keyBytes(layer: layer),
      valueBytes: cache.valueBytes(layer: layer), kvDim: cache.kvDim, rowBytes: cache.rowBytes,
      blockSize: cache.blockSize, splits: splits, tasks: tasks, parts: max(1, min(pool.threadCount * 4, tasks)))
    pool.parallelFor(job.parts, job: job)
  }
}

/// How a batch's tokens attend: runs of consecutive prompt tokens of one slice that take the tiled
/// row kernel together (`attendRows`), and every other token alone. Built once per forward pass (it
/// depends on the batch, the cache's type and the query group, not the layer).
///
/// A position takes the tiled kernel when its slice's `halfAttentionFrom` is a prompt length (not
/// `Int.max`, which marks f32 everywhere under `Numerics.fast` or a Q8_0 cache) and the position lies
/// below it, so which kernel a position takes never depends on how the scheduler batched or chunked
/// it; since a row's bits do not depend on its tile either, neither do its outputs.
struct AttentionUnits {
  /// First batch token of each unit.
  let token: [Int]
  /// Tokens in each unit's tile; 0 marks a single token on the per-token kernels.
  let tileTokens: [Int]
  /// Shares a tile's query group is split into so that a tile has at most 32 rows.
  let tileShares: Int
  var count: Int { token.count }

  init(_ batch: ForwardBatch, type: KVCacheType, group: Int) {
    let rowLimit = 32
    tileShares = (group + rowLimit - 1) / rowLimit
    let perTile = max(1, rowLimit / ((group + tileShares - 1) / tileShares))
    var token: [Int] = []
    var tileTokens: [Int] = []
    token.reserveCapacity(batch.tokens.count)
    tileTokens.reserveCapacity(batch.tokens.count)
    for s in batch.slices {
      let tiledEnd =
        type == .f16 && s.halfAttentionFrom != Int.max
        ? min(s.tokenCount, max(0, s.halfAttentionFrom - s.startPosition)) : 0
      var j = 0
      while j < tiledEnd {
        let count = min(perTile, tiledEnd - j)
        token.append(s.tokenOffset + j)
        tileTokens.append(count)
        j += count
      }
      for k in tiledEnd..<s.tokenCount {
        token.append(s.tokenOffset + k)
        tileTokens.append(0)
      }
    }
    self.token = token
    self.tileTokens = tileTokens
  }
}

/// (unit, KV head, head share) tasks split into `parts` contiguous ranges; a value type so a parallel
/// region allocates nothing.
private struct AttentionJob: ParallelJob {
  let attention: CausalAttention
  let q: UnsafePointer<Float>  // [nTokens, heads, headDim]
  let out: UnsafeMutablePointer<Float>  // [nTokens, heads, headDim]
  let batch: ForwardBatch
  let placement: TokenPlacement
  let units: AttentionUnits
  /// The layer lives in the cache's window region: read through the slices' window tables.
  let windowed: Bool
  let type: KVCacheType
  let keyBytes: UnsafeMutableRawPointer  // [blocks, blockSize, row of rowBytes]
  let valueBytes: UnsafeMutableRawPointer  // [blocks, blockSize, row of rowBytes]
  let kvDim: Int
  let rowBytes: Int
  let blockSize: Int
  /// Shares each KV head's query group is split into (a tile uses the first `units.tileShares`).
  let splits: Int
  let tasks: Int
  let parts: Int

  func run(_ part: Int) {
    let heads = attention.heads
    let kvHeads = attention.kvHeads
    let headDim = attention.headDim
    let group = heads / kvHeads
    let qDim = heads * headDim
    for task in (tasks * part / parts)..<(tasks * (part + 1) / parts) {
      let u = task / (kvHeads * splits)
      let g = task / splits % kvHeads
      let share = task % splits
      let t = units.token[u]
      let tileTokens = units.tileTokens[u]
      let shares = tileTokens > 0 ? units.tileShares : splits
      if share >= shares { continue }
      let perTask = (group + shares - 1) / shares
      let firstHead = g * group + share * perTask
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
          if tileTokens > 0 {
            attendRows(
              queries: q + offset, tokenStride: qDim, headStride: headDim, tokens: tileTokens, heads: count, kv: view,
              lastPosition: placement.position[t], window: attention.window, headDim: headDim,
              scale: attention.scale, out: out + offset, outTokenStride: qDim, outHeadStride: headDim)
          } else {
            attendHeads(
              queries: q + offset, queryStride: headDim, count: count, kv: view, position: placement.position[t],
              window: attention.window, headDim: headDim, scale: attention.scale,
              halfAccumulator: placement.position[t] >= slice.halfAttentionFrom, out: out + offset,
              outStride: headDim)
          }
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
