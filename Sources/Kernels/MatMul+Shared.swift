import GGUF
import KernelsC

/// `matmul` of up to three matrices with the same input: Q, K and V, or gate and up.
///
/// The input rows are quantized once, and all matrices run in one parallel region (one pool dispatch
/// instead of three) when they share an activation format and all have packed kernels; otherwise each
/// runs as its own `multiplyQuantized`. x: [n, cols]; each y: [n, rows of its matrix]. `batched` as
/// for `matmul`, applied to each matrix by its type.
public func matmulShared(
  _ a: WeightMatrix, _ ya: UnsafeMutablePointer<Float>, _ b: WeightMatrix, _ yb: UnsafeMutablePointer<Float>,
  _ c: WeightMatrix? = nil, _ yc: UnsafeMutablePointer<Float>? = nil, x: UnsafePointer<Float>, n: Int,
  pool: ThreadPool, batched: BatchedOrderRows? = nil
) {
  if n <= 0 { return }
  let format = ActivationFormat(weights: a.type)
  let third = c.flatMap { c in yc.map { (c, $0) } }
  guard format != .f32, ActivationFormat(weights: b.type) == format, b.cols == a.cols,
    third.map({ ActivationFormat(weights: $0.0.type) == format && $0.0.cols == a.cols }) ?? true
  else {
    matmul(a, x, ya, n: n, pool: pool, batched: batched)
    matmul(b, x, yb, n: n, pool: pool, batched: batched)
    if let (c, yc) = third { matmul(c, x, yc, n: n, pool: pool, batched: batched) }
    return
  }
  let actBytes = format.rowBytes(a.cols)
  pool.withScratch(bytes: n * actBytes) { act in  // [n, actBytes]
    quantizeActivationRows(format, x, act, rows: n, cols: a.cols, pool: pool)
    let packedA = a.packed(pool: pool)
    let packedB = b.packed(pool: pool)
    let packedC = third.map { $0.0.packed(pool: pool) } ?? nil
    guard let pa = packedA, let pb = packedB, third == nil || packedC != nil else {
      multiplyQuantized(a, UnsafeRawPointer(act), actBytes: actBytes, ya, n: n, pool: pool, batched: batched)
      multiplyQuantized(b, UnsafeRawPointer(act), actBytes: actBytes, yb, n: n, pool: pool, batched: batched)
      if let (c, yc) = third {
        multiplyQuantized(c, UnsafeRawPointer(act), actBytes: actBytes, yc, n: n, pool: pool, batched: batched)
      }
      return
    }
    // Groups of 8 rows of all matrices, numbered consecutively; each thread takes an even share.
    let ga = (a.rows + 7) / 8
    let gb = (b.rows + 7) / 8
    var targets: (PackedGemmTarget, PackedGemmTarget?, PackedGemmTarget?) = (
      PackedGemmTarget(weights: a, packed: pa, y: ya, firstGroup: 0, groups: ga),
      PackedGemmTarget(weights: b, packed: pb, y: yb, firstGroup: ga, groups: gb), nil
    )
    var total = ga + gb
    if let (c, yc) = third, let pc = packedC {
      let gc = (c.rows + 7) / 8
      targets.2 = PackedGemmTarget(weights: c, packed: pc, y: yc, firstGroup: total, groups: gc)
      total += gc
    }
    let job = PackedGemmJob(
      targets: targets, act: UnsafeRawPointer(act), actBytes: actBytes, n: n, totalGroups: total,
      parts: min(pool.threadCount, total), batched: batched)
    pool.parallelFor(job.parts, job: job)
  }
}
