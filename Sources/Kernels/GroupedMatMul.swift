import KernelsC

/// One product of `multiplyGrouped`: `n` activation rows, already in `ActivationFormat(weights:)` of
/// the weights' type and `actBytes` apart, times `weights`; results to `y` ([n, weights.rows]).
public struct GroupedProduct {
  public var weights: WeightMatrix
  public var act: UnsafeRawPointer  // [n, actBytes]
  public var actBytes: Int
  public var n: Int
  public var y: UnsafeMutablePointer<Float>  // [n, weights.rows]

  public init(
    weights: WeightMatrix, act: UnsafeRawPointer, actBytes: Int, n: Int, y: UnsafeMutablePointer<Float>
  ) {
    self.weights = weights
    self.act = act
    self.actBytes = actBytes
    self.n = n
    self.y = y
  }
}

/// Several independent products (a mixture-of-experts layer's experts, each with its own rows) in
/// one parallel region: every product's 8-row weight groups are laid end to end and the threads
/// take equal shares of the work, a group of product i weighing `n_i + 4` (streaming its weights
/// costs about as much as four rows of arithmetic). Each output is computed exactly as `matmul`
/// would compute it, so the split never changes a bit. Products whose weights have no packed
/// kernel run one after another through `multiplyQuantized`.
public func multiplyGrouped(_ products: [GroupedProduct], pool: ThreadPool) {
  withUnsafeTemporaryAllocation(of: PackedProduct.self, capacity: max(1, products.count)) { buffer in
    var count = 0
    var work = 0
    for p in products where p.n > 0 {
      guard let weights = p.weights.packed(pool: pool) else {
        multiplyQuantized(p.weights, p.act, actBytes: p.actBytes, p.y, n: p.n, pool: pool)
        continue
      }
      let groups = (p.weights.rows + 7) / 8
      buffer.initializeElement(
        at: count, to: PackedProduct(product: p, packed: weights, groups: groups, firstWork: work, cost: p.n + 4))
      count += 1
      work += groups * (p.n + 4)
    }
    defer { _ = UnsafeMutableBufferPointer(rebasing: buffer[0..<count]).deinitialize() }
    if count == 0 { return }
    let job = GroupedGemmJob(
      items: UnsafeBufferPointer(rebasing: buffer[0..<count]), totalWork: work, parts: pool.threadCount)
    pool.parallelFor(job.parts, job: job)
  }
}

private struct PackedProduct {
  var product: GroupedProduct
  var packed: UnsafeRawPointer
  var groups: Int
  /// Work units before this product's first group; a group costs `cost` units.
  var firstWork: Int
  var cost: Int
}

/// Part p takes every group whose first work unit lies in `[W·p/P, W·(p+1)/P)`.
private struct GroupedGemmJob: ParallelJob {
  let items: UnsafeBufferPointer<PackedProduct>
  let totalWork: Int
  let parts: Int

  func run(_ part: Int) {
    let lo = totalWork * part / parts
    let hi = totalWork * (part + 1) / parts
    for item in items {
      // Groups g with lo <= firstWork + g·cost < hi.
      let a = max(0, (lo - item.firstWork + item.cost - 1) / item.cost)
      let b = min(item.groups, max(0, (hi - item.firstWork + item.cost - 1) / item.cost))
      if a >= b { continue }
      let p = item.product
      let w = p.weights
      let done = pg_gemm_packed(
        w.packedKernelCode, item.packed, Int32(w.rows), Int32(a), Int32(b), p.act, p.actBytes, Int32(p.n), p.y,
        w.rows, Int32(w.cols))
      if done != 0 { continue }
      // Rows too long for the kernel's scale buffer: the plain kernel on the same rows.
      for r in (a * 8)..<min(w.rows, b * 8) {
        for t in 0..<p.n { p.y[t * w.rows + r] = vecDot(w.type, w.row(r), p.act + t * p.actBytes, w.cols) }
      }
    }
  }
}
