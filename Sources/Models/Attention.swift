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
    pool.parallelRanges(n * heads) { range in
      let scores = UnsafeMutablePointer<Float>.allocate(capacity: start + n)  // [positions]
      let acc = UnsafeMutablePointer<Float>.allocate(capacity: headDim)  // [headDim]
      defer {
        scores.deallocate()
        acc.deallocate()
      }
      for task in range {
        let t = task / heads
        let h = task % heads
        let kvh = h / group
        let position = start + t
        let first = window.map { max(0, position - $0 + 1) } ?? 0
        let qh = q + t * qDim + h * headDim
        var maxScore = -Float.infinity
        for p in first...position {
          let k = cache.keys(layer: layer, position: p) + kvh * headDim
          var s: Float = 0
          for i in 0..<headDim { s += qh[i] * Float(k[i]) }
          s *= scale
          scores[p - first] = s
          maxScore = max(maxScore, s)
        }
        let count = position - first + 1
        var sum: Float = 0
        for i in 0..<count {
          let e = expf(scores[i] - maxScore)
          scores[i] = e
          sum += e
        }
        acc.initialize(repeating: 0, count: headDim)
        for p in first...position {
          let v = cache.values(layer: layer, position: p) + kvh * headDim
          let w = scores[p - first]
          for i in 0..<headDim { acc[i] += w * Float(v[i]) }
        }
        let o = out + t * qDim + h * headDim
        let inv = 1 / sum
        for i in 0..<headDim { o[i] = acc[i] * inv }
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
