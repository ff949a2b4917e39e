import GGUF
import KernelsC

/// `matmul` of up to three matrices with the same input: Q, K and V, or gate and up.
///
/// The input rows are quantized once, and all matrices run in one parallel region (one pool dispatch
/// instead of three) when they share an activation format and all have packed kernels; otherwise each
/// runs as its own `multiplyQuantized`. x: [n, cols]; each y: [n, rows of its matrix].
public func matmulShared(
  _ a: WeightMatrix, _ ya: UnsafeMutablePointer<Float>, _ b: WeightMatrix, _ yb: UnsafeMutablePointer<Float>,
  _ c: WeightMatrix? = nil, _ yc: UnsafeMutablePointer<Float>? = nil, x: UnsafePointer<Float>, n: Int,
  pool: ThreadPool
) {
  if n <= 0 { return }
  let format = ActivationFormat(weights: a.type)
  let third = c.flatMap { c in yc.map { (c, $0) } }
  guard format != .f32, ActivationFormat(weights: b.type) == format, b.cols == a.cols,
    third.map({ ActivationFormat(weights: $0.0.type) == format && $0.0.cols == a.cols }) ?? true
  else {
    matmul(a, x, ya, n: n, pool: pool)
    matmul(b, x, yb, n: n, pool: pool)
    if let (c, yc) = third { matmul(c, x, yc, n: n, pool: pool) }
    return
  }
  let actBytes = format.rowBytes(a.cols)
  pool.withScratch(bytes: n * actBytes) { act in  // [n, actBytes]
    quantizeActivationRows(format, x, act, rows: n, cols: a.cols, pool: pool)
    let packedA = a.packed(pool: pool)
    let packedB = b.packed(pool: pool)
    let packedC = third.map { $0.0.packed(pool: pool) } ?? nil
    guard let pa = packedA, let pb = packedB, third == nil || packedC != nil else {
      multiplyQuantized(a, UnsafeRawPointer(act), actBytes: actBytes, ya, n: n, pool: pool)
      multiplyQuantized(b, UnsafeRawPointer(act), actBytes: actBytes, yb, n: n, pool: pool)
      if let (c, yc) = third { multiplyQuantized(c, UnsafeRawPointer(act), actBytes: actBytes, yc, n: n, pool: pool) }
      return
    }
    // Groups of 8 rows of all matrices, numbered consecutively; each thread takes an even share.
    let ga = (a.rows + 7) / 8
    let gb = (b.rows + 7) / 8
    let gc = third.map { ($0.0.rows + 7) / 8 } ?? 0
    pool.parallelEven(ga + gb + gc) { range in
      @inline(__always) func run(_ w: WeightMatrix, _ packed: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, _ base: Int, _ count: Int) {
        let lo = max(range.lowerBound, base) - base
        let hi = min(range.upperBound, base + count) - base
        if lo >= hi { return }
        let done = pg_gemm_packed(
          Int32(w.type.rawValue), packed, Int32(w.rows), Int32(lo), Int32(hi), act, actBytes, Int32(n), y, w.rows,
          Int32(w.cols))
        if done != 0 { return }
        for r in (lo * 8)..<min(w.rows, hi * 8) {
          for t in 0..<n { y[t * w.rows + r] = vecDot(w.type, w.row(r), act + t * actBytes, w.cols) }
        }
      }
      run(a, pa, ya, 0, ga)
      run(b, pb, yb, ga, gb)
      if let (c, yc) = third, let pc = packedC { run(c, pc, yc, ga + gb, gc) }
    }
  }
}
