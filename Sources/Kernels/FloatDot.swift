import GGUF

/// Dot product of one F32 or F16 weight row with f32 activations in exactly the order of the SIMD
/// float kernel (`tile_f` in KernelsC): eight lanes, lane l summing columns l, l+8, l+16, … of the
/// first `cols / 8 · 8` with one fused multiply-add each; the lanes added as ((l0+l4) + (l2+l6)) +
/// ((l1+l5) + (l3+l7)); then the remaining columns one fused multiply-add each.
///
/// It is the plain twin the kernel tests compare against bit for bit. The order is fixed per
/// output, never per batch, which is what makes a row's result independent of how many rows are
/// multiplied together (greedy speculative decoding must reproduce plain decoding exactly).
public func floatDotInKernelOrder(
  _ type: GGMLType, _ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ cols: Int
) -> Float {
  precondition(type == .f32 || type == .f16, "floatDotInKernelOrder: F32 or F16 rows only")
  func weight(_ i: Int) -> Float {
    type == .f16 ? loadHalf(row, 2 * i) : row.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
  }
  var lanes = [Float](repeating: 0, count: 8)
  let body = cols / 8 * 8
  for i in stride(from: 0, to: body, by: 8) {
    for l in 0..<8 { lanes[l].addProduct(weight(i + l), x[i + l]) }
  }
  let half = (0..<4).map { lanes[$0] + lanes[$0 + 4] }  // the two 128-bit halves added
  var sum = (half[0] + half[2]) + (half[1] + half[3])
  for i in body..<cols { sum.addProduct(weight(i), x[i]) }
  return sum
}

/// Reference twin of `matmul` for F32/F16 weights: `floatDotInKernelOrder` per output,
/// single-threaded. x: [n, w.cols], y: [n, w.rows].
public func matmulFloatReference(
  _ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int
) {
  for t in 0..<n {
    for r in 0..<w.rows { y[t * w.rows + r] = floatDotInKernelOrder(w.type, w.row(r), x + t * w.cols, w.cols) }
  }
}
