import GGUF
import KernelsC

/// `y[t, r] = dot(W[r, :], x[t, :])` for `n` activation rows.
///
/// x: [n, w.cols] floats, y: [n, w.rows] floats. Activations are first quantized to the weight
/// type's partner format (see `ActivationFormat`), once per row, into the pool's scratch memory;
/// then each thread takes an equal share of the weight rows and runs the SIMD kernel for this CPU
/// (`pg_gemm`), which reuses every loaded weight block across several activation rows. Types or
/// CPUs without a SIMD kernel use the Swift `vecDot`. `batched` marks the activation rows that take
/// llama.cpp's summation order for batched rows (Q4_K, Q5_K and Q6_K weights; see `PG_BATCHED`).
public func matmul(
  _ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int, pool: ThreadPool,
  batched: BatchedOrderRows? = nil
) {
  if n <= 0 { return }
  let format = ActivationFormat(weights: w.type)
  let actBytes = format.rowBytes(w.cols)
  if format == .f32 {
    multiplyQuantized(w, UnsafeRawPointer(x), actBytes: actBytes, y, n: n, pool: pool)
    return
  }
  pool.withScratch(bytes: n * actBytes) { act in  // [n, actBytes]
    quantizeActivationRows(format, x, act, rows: n, cols: w.cols, pool: pool)
    multiplyQuantized(w, UnsafeRawPointer(act), actBytes: actBytes, y, n: n, pool: pool, batched: batched)
  }
}

/// `y[t, r] = dot(W[r, :], act[t])` for activations already in `ActivationFormat(weights: w.type)`,
/// rows `actBytes` apart. Use it to share one quantization between matrices with the same input
/// (Q, K, V; gate and up).
public func multiplyQuantized(
  _ w: WeightMatrix, _ act: UnsafeRawPointer, actBytes: Int, _ y: UnsafeMutablePointer<Float>, n: Int,
  pool: ThreadPool, batched: BatchedOrderRows? = nil
) {
  let rows = w.rows
  let cols = w.cols
  let code = Int32(w.type.rawValue)
  if let packed = w.packed(pool: pool) {
    // Groups of 8 interleaved rows, an even share per thread.
    let groups = (rows + 7) / 8
    let job = PackedGemmJob(
      targets: (PackedGemmTarget(weights: w, packed: packed, y: y, firstGroup: 0, groups: groups), nil, nil),
      act: act, actBytes: actBytes, n: n, totalGroups: groups, parts: min(pool.threadCount, groups),
      batched: batched)
    pool.parallelFor(job.parts, job: job)
    return
  }
  // Even split in multiples of 4 rows (the kernels' row tile): one chunk per thread.
  pool.parallelEven(rows, granule: 16) { range in
    let done = pg_gemm(
      code, w.data, w.rowBytes, Int32(range.lowerBound), Int32(range.upperBound), act, actBytes, Int32(n), y, rows,
      Int32(cols))
    if done != 0 { return }
    for r in range {
      let row = w.row(r)
      for t in 0..<n { y[t * rows + r] = vecDot(w.type, row, act + t * actBytes, cols) }
    }
  }
}

/// Quantizes `rows` rows of `cols` floats into `format` (rows `format.rowBytes(cols)` apart), in
/// parallel when there are many.
public func quantizeActivationRows(
  _ format: ActivationFormat, _ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, rows: Int, cols: Int,
  pool: ThreadPool
) {
  let actBytes = format.rowBytes(cols)
  if rows * cols < 1 << 15 {
    for t in 0..<rows { quantizeActivationsFast(format, x + t * cols, dst + t * actBytes, cols) }
    return
  }
  pool.parallelEven(rows) { range in
    for t in range { quantizeActivationsFast(format, x + t * cols, dst + t * actBytes, cols) }
  }
}

/// `quantizeActivations` through the SIMD kernel when this CPU has one (bit-identical results).
@inline(__always)
public func quantizeActivationsFast(
  _ format: ActivationFormat, _ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ count: Int
) {
  if format == .q8_0 || format == .q8_1, pg_quantize_q8(x, dst, Int32(count), format == .q8_1 ? 1 : 0) != 0 { return }
  if format == .q8_K, pg_quantize_q8k(x, dst, Int32(count)) != 0 { return }
  quantizeActivations(format, x, dst, count)
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
