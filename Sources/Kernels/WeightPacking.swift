import KernelsC

/// Packs `matrices` now instead of on their first product (`WeightMatrix.packed`), so a command can
/// show the work at load and the first token does not pay for it. Matrices without a packed form,
/// and copies of one matrix (a tied output head), are skipped; `progress(done, total)` gets source
/// bytes after each matrix. Resident memory stays near one copy of the weights: each matrix's file
/// pages are dropped as its packing proceeds (see `WeightMatrix`).
public func packWeights(_ matrices: [WeightMatrix], pool: ThreadPool, progress: ((Int, Int) -> Void)? = nil) {
  var seen = Set<ObjectIdentifier>()
  let pending = matrices.filter { m in
    guard let p = m.packing, p.pointer == nil else { return false }
    return seen.insert(ObjectIdentifier(p)).inserted
  }
  let total = pending.reduce(0) { $0 + $1.rows * $1.rowBytes }
  var done = 0
  for m in pending {
    _ = m.packed(pool: pool)
    done += m.rows * m.rowBytes
    progress?(done, total)
  }
}
