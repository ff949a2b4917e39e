import Foundation
import Kernels

/// Grouped-query causal attention for a batch of new tokens against a sequence's KV cache.
/// Shared by every architecture; the cache must already hold the batch's own keys and values.
struct CausalAttention {
  let heads: Int
  let kvHeads: Int
  let headDim: Int
  let scale: Float
  /// Tokens further back than this are not attended to (sliding-window layers); nil = unlimited.
  let window: Int?

  /// q: [n, heads, headDim] at positions start..<start+n; out: [n, heads, headDim].
  func run(
    q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, n: Int, start: Int,
    layer: Int, cache: KVCache, pool: ThreadPool
  ) {
    let group = heads / kvHeads
    let qDim = heads * headDim
    let kvDim = cache.kvDim
    // The contiguous cache is one block per layer in `attendHead`'s paged view.
    var table: Int32 = 0
    withUnsafePointer(to: &table) { table in
      pool.parallelRanges(n * heads) { range in
        for task in range {
          let t = task / heads
          let h = task % heads
          let kvh = h / group
          let view = PagedHeadView(
            keys: cache.keys(layer: layer, position: 0) + kvh * headDim,
            values: cache.values(layer: layer, position: 0) + kvh * headDim, blockTable: table,
            blockSize: cache.capacity, blockStride: 0, rowStride: kvDim)
          attendHead(
            query: q + t * qDim + h * headDim, kv: view, position: start + t, window: window, headDim: headDim,
            scale: scale, out: out + t * qDim + h * headDim)
        }
      }
    }
  }
}

/// Writes `n` rows of keys and values (each `[n, kvDim]` floats) into a layer's cache at `start`.
func storeKV(
  _ k: UnsafePointer<Float>, _ v: UnsafePointer<Float>, n: Int, start: Int, layer: Int, cache: KVCache
) {
  let kvDim = cache.kvDim
  for t in 0..<n {
    let kd = cache.keys(layer: layer, position: start + t)
    let vd = cache.values(layer: layer, position: start + t)
    for i in 0..<kvDim {
      kd[i] = Float16(k[t * kvDim + i])
      vd[i] = Float16(v[t * kvDim + i])
    }
  }
}
