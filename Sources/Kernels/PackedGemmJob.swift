import KernelsC

/// One packed matrix of a `PackedGemmJob`: its groups are numbered from `firstGroup`.
struct PackedGemmTarget {
  var weights: WeightMatrix
  var packed: UnsafeRawPointer
  var y: UnsafeMutablePointer<Float>  // [n, weights.rows]
  var firstGroup: Int
  var groups: Int
}

/// Up to three packed matrices against the same quantized activations, their 8-row groups
/// numbered consecutively and split into `parts` even ranges, one per chunk (a `ParallelJob`, so a
/// region allocates nothing).
struct PackedGemmJob: ParallelJob {
  var targets: (PackedGemmTarget, PackedGemmTarget?, PackedGemmTarget?)
  var act: UnsafeRawPointer  // [n, actBytes]
  var actBytes: Int
  var n: Int
  var totalGroups: Int
  var parts: Int
  /// Per activation row and K-quant type, whether it takes llama.cpp's batched order (`PG_BATCHED`);
  /// nil for none.
  var batched: BatchedOrderRows? = nil

  func run(_ part: Int) {
    let lo = totalGroups * part / parts
    let hi = totalGroups * (part + 1) / parts
    run(targets.0, lo, hi)
    if let t = targets.1 { run(t, lo, hi) }
    if let t = targets.2 { run(t, lo, hi) }
  }

  @inline(__always) private func run(_ t: PackedGemmTarget, _ lo: Int, _ hi: Int) {
    let a = max(lo, t.firstGroup) - t.firstGroup
    let b = min(hi, t.firstGroup + t.groups) - t.firstGroup
    if a >= b { return }
    let w = t.weights
    let code = w.packedKernelCode
    if let paired = batched?.rows(for: w.type), w.numerics == .exact {
      // Runs of activation rows with the same summation order, one kernel call each (the fast order is
      // the same for both, so it never splits).
      var done: Int32 = 1
      var r0 = 0
      while r0 < n {
        var r1 = r0 + 1
        while r1 < n && paired[r1] == paired[r0] { r1 += 1 }
        done &= pg_gemm_packed(
          code | (paired[r0] ? Int32(PG_BATCHED) : 0), t.packed, Int32(w.rows), Int32(a), Int32(b),
          act + r0 * actBytes, actBytes, Int32(r1 - r0), t.y + r0 * w.rows, w.rows, Int32(w.cols))
        r0 = r1
      }
      if done != 0 { return }
    } else {
      let done = pg_gemm_packed(
        code, t.packed, Int32(w.rows), Int32(a), Int32(b), act, actBytes, Int32(n), t.y, w.rows, Int32(w.cols))
      if done != 0 { return }
    }
    // Rows too long for the kernel's scale buffer: the plain kernel on the same rows.
    for r in (a * 8)..<min(w.rows, b * 8) {
      for tok in 0..<n { t.y[tok * w.rows + r] = vecDot(w.type, w.row(r), act + tok * actBytes, w.cols) }
    }
  }
}
