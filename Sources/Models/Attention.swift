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
    let group = heads / kvHeads
    let qDim = heads * headDim
    let kvDim = cache.kvDim
    let blockSize = cache.blockSize
    let blockStride = cache.blockStride
    let keyBase = cache.keyBase(layer: layer)
    let valueBase = cache.valueBase(layer: layer)
    let n = batch.tokens.count
    pool.parallelRanges(n * heads) { range in
      for task in range {
        let t = task / heads
        let h = task % heads
        let kvOffset = (h / group) * headDim
        batch.slices[placement.slice[t]].blockTable.withUnsafeBufferPointer { table in
          let view = PagedHeadView(
            keys: keyBase + kvOffset, values: valueBase + kvOffset, blockTable: table.baseAddress!,
            blockSize: blockSize, blockStride: blockStride, rowStride: kvDim)
          attendHead(
            query: q + t * qDim + h * headDim, kv: view, position: placement.position[t], window: window,
            headDim: headDim, scale: scale, out: out + t * qDim + h * headDim)
        }
      }
    }
  }
}

/// Writes each token's keys and values (`[nTokens, kvDim]` floats each) into its sequence's cache slot.
func storeKV(
  _ k: UnsafePointer<Float>, _ v: UnsafePointer<Float>, batch: ForwardBatch, placement: TokenPlacement,
  layer: Int, cache: PagedKVCache
) {
  let kvDim = cache.kvDim
  let blockSize = cache.blockSize
  for t in 0..<batch.tokens.count {
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
