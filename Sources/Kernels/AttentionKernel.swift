import Foundation
import KernelsC

/// Keys and values of one KV head stored as Float16 rows in fixed-size blocks, found through a
/// block table (a paged KV cache). Position `p` is row `p % blockSize` of block
/// `blockTable[p / blockSize]`; its row starts at `base + block * blockStride + row * rowStride`
/// (all in Float16 elements). Point `keys`/`values` at the head's first element (add
/// `kvHead * headDim` for an interleaved `[blockSize, kvHeads, headDim]` block).
public struct PagedHeadView {
  public var keys: UnsafePointer<Float16>
  public var values: UnsafePointer<Float16>
  public var blockTable: UnsafePointer<Int32>
  public var blockSize: Int
  public var blockStride: Int
  public var rowStride: Int

  public init(
    keys: UnsafePointer<Float16>, values: UnsafePointer<Float16>, blockTable: UnsafePointer<Int32>, blockSize: Int,
    blockStride: Int, rowStride: Int
  ) {
    self.keys = keys
    self.values = values
    self.blockTable = blockTable
    self.blockSize = blockSize
    self.blockStride = blockStride
    self.rowStride = rowStride
  }

  @inline(__always) func offset(_ p: Int) -> Int {
    Int(blockTable[p / blockSize]) * blockStride + (p % blockSize) * rowStride
  }
}

/// Causal attention of one query head at `position`: softmax over `scale · q·k_p` for positions
/// `max(0, position - window + 1)...position` (all of `0...position` when `window` is nil), then the
/// weighted sum of the values into `out` ([headDim] floats).
///
/// The SIMD kernel streams the positions block by block with an online softmax (one pass over the
/// keys and values, no score buffer), so its cost stays linear and its memory constant at long
/// context. Without a SIMD level it uses `attendHeadReference`.
///
/// With `halfAccumulator` it uses llama.cpp's flash-attention arithmetic instead (see
/// `attendHeadHalfReference`, its twin and fallback).
@inline(__always)
public func attendHead(
  query: UnsafePointer<Float>, kv: PagedHeadView, position: Int, window: Int?, headDim: Int, scale: Float,
  halfAccumulator: Bool = false, out: UnsafeMutablePointer<Float>
) {
  let first = window.map { max(0, position - $0 + 1) } ?? 0
  let done = kv.keys.withMemoryRebound(to: UInt16.self, capacity: 1) { k in
    kv.values.withMemoryRebound(to: UInt16.self, capacity: 1) { v in
      halfAccumulator
        ? pg_attend_head_half(
          query, k, v, kv.blockTable, Int32(kv.blockSize), kv.blockStride, kv.rowStride, Int32(first),
          Int32(position), Int32(headDim), scale, out)
        : pg_attend_head(
          query, k, v, kv.blockTable, Int32(kv.blockSize), kv.blockStride, kv.rowStride, Int32(first),
          Int32(position), Int32(headDim), scale, out)
    }
  }
  if done != 0 { return }
  if halfAccumulator {
    attendHeadHalfReference(
      query: query, kv: kv, position: position, window: window, headDim: headDim, scale: scale, out: out)
  } else {
    attendHeadReference(query: query, kv: kv, position: position, window: window, headDim: headDim, scale: scale, out: out)
  }
}

/// `attendHead` for `count` query heads that share one KV head (grouped-query attention): query `h`
/// at `queries + h * queryStride`, its output at `out + h * outStride`. With `halfAccumulator` the
/// heads' updates are interleaved (independent rounding chains overlap), results equal per-head calls.
@inline(__always)
public func attendHeads(
  queries: UnsafePointer<Float>, queryStride: Int, count: Int, kv: PagedHeadView, position: Int, window: Int?,
  headDim: Int, scale: Float, halfAccumulator: Bool = false, out: UnsafeMutablePointer<Float>, outStride: Int
) {
  let first = window.map { max(0, position - $0 + 1) } ?? 0
  let done = kv.keys.withMemoryRebound(to: UInt16.self, capacity: 1) { k in
    kv.values.withMemoryRebound(to: UInt16.self, capacity: 1) { v in
      halfAccumulator
        ? pg_attend_heads_half(
          queries, queryStride, Int32(count), k, v, kv.blockTable, Int32(kv.blockSize), kv.blockStride, kv.rowStride,
          Int32(first), Int32(position), Int32(headDim), scale, out, outStride)
        : pg_attend_heads(
          queries, queryStride, Int32(count), k, v, kv.blockTable, Int32(kv.blockSize), kv.blockStride, kv.rowStride,
          Int32(first), Int32(position), Int32(headDim), scale, out, outStride)
    }
  }
  if done != 0 { return }
  for h in 0..<count {
    if halfAccumulator {
      attendHeadHalfReference(
        query: queries + h * queryStride, kv: kv, position: position, window: window, headDim: headDim, scale: scale,
        out: out + h * outStride)
    } else {
      attendHeadReference(
        query: queries + h * queryStride, kv: kv, position: position, window: window, headDim: headDim, scale: scale,
        out: out + h * outStride)
    }
  }
}

/// Reference twin of `attendHead`: scores for every position first, a max-subtracted softmax in
/// Double, then the weighted sum of the values.
public func attendHeadReference(
  query: UnsafePointer<Float>, kv: PagedHeadView, position: Int, window: Int?, headDim: Int, scale: Float,
  out: UnsafeMutablePointer<Float>
) {
  let first = window.map { max(0, position - $0 + 1) } ?? 0
  var scores = [Double](repeating: 0, count: position - first + 1)
  for p in first...position {
    let k = kv.keys + kv.offset(p)
    var s: Double = 0
    for i in 0..<headDim { s += Double(query[i]) * Double(Float(k[i])) }
    scores[p - first] = s * Double(scale)
  }
  let maxScore = scores.max() ?? 0
  var sum: Double = 0
  for i in scores.indices {
    scores[i] = Foundation.exp(scores[i] - maxScore)
    sum += scores[i]
  }
  var acc = [Double](repeating: 0, count: headDim)
  for p in first...position {
    let v = kv.values + kv.offset(p)
    let w = scores[p - first] / sum
    for i in 0..<headDim { acc[i] += w * Double(Float(v[i])) }
  }
  for i in 0..<headDim { out[i] = Float(acc[i]) }
}
