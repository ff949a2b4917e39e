/// `y[t, r] = dot(W[r, :], x[t, :])` for `n` activation rows.
///
/// x: [n, w.cols] floats, y: [n, w.rows] floats. Activations are first quantized to the weight
/// type's partner format (see `ActivationFormat`), once per row, then every weight row is dotted
/// with every activation row; threads split the weight rows.
public func matmul(
  _ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int, pool: ThreadPool
) {
  let cols = w.cols
  let rows = w.rows
  let format = ActivationFormat(weights: w.type)
  let actBytes = format.rowBytes(cols)
  let act = UnsafeMutableRawPointer.allocate(byteCount: max(1, n * actBytes), alignment: 64)  // [n, actBytes]
  defer { act.deallocate() }
  for t in 0..<n { quantizeActivations(format, x + t * cols, act + t * actBytes, cols) }
  pool.parallelRanges(rows, minimumChunk: 16) { range in
    for r in range {
      let row = w.row(r)
      for t in 0..<n { y[t * rows + r] = vecDot(w.type, row, act + t * actBytes, cols) }
    }
  }
}

/// Reference twin of `matmul`: the same activation quantization, then `vecDotReference` per output,
/// single-threaded.
public func matmulReference(_ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int) {
  let format = ActivationFormat(weights: w.type)
  let actBytes = format.rowBytes(w.cols)
  let act = UnsafeMutableRawPointer.allocate(byteCount: max(1, actBytes), alignment: 64)
  defer { act.deallocate() }
  for t in 0..<n {
    quantizeActivations(format, x + t * w.cols, act, w.cols)
    for r in 0..<w.rows { y[t * w.rows + r] = vecDotReference(w.type, w.row(r), act, w.cols) }
  }
}
