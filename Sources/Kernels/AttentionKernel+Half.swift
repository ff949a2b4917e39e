import Foundation

/// Reference twin of `attendHead(halfAccumulator: true)`, operation for operation in scalar code, so
/// the SIMD kernel must match it bit for bit.
///
/// The arithmetic is llama.cpp's CPU flash attention (what its reference outputs were produced with):
/// the query is rounded to Float16; a score is `q·k` summed the way a 16-lane vector unit sums it
/// (elements `64i + 16a + l` fused-multiply-added into accumulator `a`, lane `l`; accumulators folded
/// 0+2, 1+3, then 0+1; lanes folded upper half + lower half down to 4, then (0+2) + (1+3); elements
/// past the last multiple of 64 added in Double), times `scale`; positions are taken in order with an
/// online softmax whose weighted value sum lives in Float16, rounded after every position.
public func attendHeadHalfReference(
  query: UnsafePointer<Float>, kv: PagedHeadView, position: Int, window: Int?, headDim: Int, scale: Float,
  out: UnsafeMutablePointer<Float>
) {
  let first = window.map { max(0, position - $0 + 1) } ?? 0
  let q = (0..<headDim).map { Float(Float16(query[$0])) }
  var acc = [Float16](repeating: 0, count: headDim)
  var runningMax = -Float.infinity
  var denominator: Float = 0
  for p in first...position {
    let k = kv.keys + kv.offset(p)
    let v = kv.values + kv.offset(p)
    let s = orderedHalfDot(k, q, headDim) * scale
    var rescale: Float = 1
    var weight: Float = 1
    if s > runningMax {
      rescale = expf(runningMax - s)
      runningMax = s
      for e in 0..<headDim { acc[e] = Float16(Float(acc[e]) * rescale) }
    } else {
      weight = expf(s - runningMax)
    }
    for e in 0..<headDim { acc[e] = Float16(Float(acc[e]).addingProduct(Float(v[e]), weight)) }
    denominator = weight.addingProduct(denominator, rescale)
  }
  let inv: Float = denominator == 0 ? 0 : 1 / denominator
  for e in 0..<headDim { out[e] = Float(acc[e]) * inv }
}

/// `k·q` in the 16-lane summation order described on `attendHeadHalfReference`.
private func orderedHalfDot(_ k: UnsafePointer<Float16>, _ q: [Float], _ n: Int) -> Float {
  var lanes = [[Float]](repeating: [Float](repeating: 0, count: 16), count: 4)  // [accumulator, lane]
  let np = n & ~63
  for i in stride(from: 0, to: np, by: 64) {
    for a in 0..<4 {
      for l in 0..<16 {
        let e = i + 16 * a + l
        lanes[a][l] = lanes[a][l].addingProduct(Float(k[e]), q[e])
      }
    }
  }
  var v = [Float](repeating: 0, count: 16)
  for l in 0..<16 { v[l] = (lanes[0][l] + lanes[2][l]) + (lanes[1][l] + lanes[3][l]) }
  let t3 = (0..<8).map { v[$0 + 8] + v[$0] }
  let t6 = (0..<4).map { t3[$0 + 4] + t3[$0] }
  var sum = Double((t6[0] + t6[2]) + (t6[1] + t6[3]))
  for e in np..<n { sum += Double(Float(k[e]) * q[e]) }
  return Float(sum)
}
