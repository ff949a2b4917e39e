import Foundation
import KernelsC

/// Prompt attention for a tile of query rows: `tokens` consecutive tokens (token `t` at position
/// `lastPosition + t`) times `heads` query heads sharing one KV head, at most 32 rows. Row `(t, h)`
/// reads its query at `queries + t * tokenStride + h * headStride` and writes
/// `out + t * outTokenStride + h * outHeadStride`.
///
/// The SIMD kernel (attention_rows_impl.h) holds the rows across vector lanes, so a key row is widened
/// once for the whole tile and a score needs no reduction across lanes. Every row's bits depend only on
/// its own query and positions: the same in any tile, at any SIMD level, and from
/// `attendRowReference`, its scalar twin and fallback.
@inline(__always)
public func attendRows(
  queries: UnsafePointer<Float>, tokenStride: Int, headStride: Int, tokens: Int, heads: Int, kv: PagedHeadView,
  lastPosition: Int, window: Int?, headDim: Int, scale: Float, out: UnsafeMutablePointer<Float>, outTokenStride: Int,
  outHeadStride: Int
) {
  let done = kv.keys.withMemoryRebound(to: UInt16.self, capacity: 1) { k in
    kv.values.withMemoryRebound(to: UInt16.self, capacity: 1) { v in
      pg_attend_rows(
        queries, tokenStride, headStride, Int32(tokens), Int32(heads), k, v, kv.blockTable, Int32(kv.blockSize),
        kv.blockStride, kv.rowStride, Int32(lastPosition), Int32(clamping: window ?? 0), Int32(headDim), scale, out,
        outTokenStride, outHeadStride)
    }
  }
  if done != 0 { return }
  for t in 0..<tokens {
    for h in 0..<heads {
      attendRowReference(
        query: queries + t * tokenStride + h * headStride, kv: kv, position: lastPosition + t, window: window,
        headDim: headDim, scale: scale, out: out + t * outTokenStride + h * outHeadStride)
    }
  }
}

/// Positions per chunk of `attendRows`' online softmax, aligned to absolute positions.
public let attendRowsChunk = 32

/// Reference twin of one row of `attendRows`, operation for operation in scalar code (the SIMD kernel
/// must match it bit for bit): a score is `q·k` summed over the head in order by fused multiply-adds
/// from 0, times `scale`; positions go in chunks of `attendRowsChunk` aligned to absolute positions;
/// a chunk whose maximum beats the running one rescales the sums by `expNeg(old − new)`; a position
/// weighs `expNeg(score − maximum)`; a chunk's weights are summed by slot mod 4 into four partial sums
/// folded (0+1)+(2+3) and added to the rescaled denominator; the value sum takes positions in order by
/// fused multiply-adds; the output is that sum times `1/denominator`.
public func attendRowReference(
  query: UnsafePointer<Float>, kv: PagedHeadView, position: Int, window: Int?, headDim: Int, scale: Float,
  out: UnsafeMutablePointer<Float>
) {
  let first = window.map { max(0, position - $0 + 1) } ?? 0
  let chunk = attendRowsChunk
  var running = -Float.infinity
  var denominator: Float = 0
  var acc = [Float](repeating: 0, count: headDim)
  var weights = [Float](repeating: 0, count: chunk)
  var start = first / chunk * chunk
  while start <= position {
    let from = max(start, first)
    let to = min(start + chunk - 1, position)
    var chunkMax = -Float.infinity
    for p in from...to {
      let k = kv.keys + kv.offset(p)
      var s: Float = 0
      for e in 0..<headDim { s = s.addingProduct(Float(k[e]), query[e]) }
      s *= scale
      weights[p - start] = s
      chunkMax = max(chunkMax, s)
    }
    var correction: Float = 1
    if chunkMax > running {
      correction = expNeg(running - chunkMax)
      running = chunkMax
    }
    var part: [Float] = [0, 0, 0, 0]
    for p in from...to {
      let s = weights[p - start]
      let w = s > -Float.infinity ? expNeg(s - running) : 0
      weights[p - start] = w
      part[(p - start) & 3] += w
    }
    denominator = denominator * correction + ((part[0] + part[1]) + (part[2] + part[3]))
    for e in 0..<headDim { acc[e] *= correction }
    for p in from...to {
      let v = kv.values + kv.offset(p)
      let w = weights[p - start]
      for e in 0..<headDim { acc[e] = acc[e].addingProduct(w, Float(v[e])) }
    }
    start += chunk
  }
  let inv: Float = denominator > 0 ? 1 / denominator : 1  // no positions: the zero sum as it is
  for e in 0..<headDim { out[e] = acc[e] * inv }
}

/// e^x for x ≤ 0 as the kernels compute it: x clamped at −87, `2^n · p(r)` with `n = round(x·log2 e)`,
/// `r = x − n·ln2` in two fused steps, and a degree-6 polynomial by Horner's rule in fused
/// multiply-adds.
public func expNeg(_ x: Float) -> Float {
  let x = max(x, -87)
  let n = (x * (1.44269504088896341 as Float)).rounded(.toNearestOrEven)
  var r = x.addingProduct(-n, 0.693359375)
  r = r.addingProduct(-n, -2.12194440e-4)
  var p: Float = 1 / 720
  p = (1 / 120 as Float).addingProduct(p, r)
  p = (1 / 24 as Float).addingProduct(p, r)
  p = (1 / 6 as Float).addingProduct(p, r)
  p = (0.5 as Float).addingProduct(p, r)
  p = (1 as Float).addingProduct(p, r)
  p = (1 as Float).addingProduct(p, r)
  return p * Float(bitPattern: UInt32(bitPattern: (Int32(n) + 127) << 23))
}
