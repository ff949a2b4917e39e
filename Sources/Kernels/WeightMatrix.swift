import GGUF
import Glibc
import KernelsC
import Synchronization

/// A read-only view of a 2-D weight tensor in place (usually inside the mmapped GGUF file).
/// `rows` output features, each a row of `cols` elements stored as `type`.
///
/// Types with a row-interleaved SIMD layout (Q4_0, Q4_1, Q8_0, Q5_0, IQ4_NL, Q4_K, Q5_K, Q6_K, and F16
/// with rows a multiple of 8 elements; see `pg_pack`) are repacked the first
/// time `matmul` uses the matrix, once, into memory owned by the view's `packing`; matrices only
/// read row by row (embedding lookups) are never repacked. When the source is a file mapping
/// (`releasesSourceAfterPacking`), its pages are dropped from the process after packing, so the
/// packed copy replaces the original in resident memory instead of doubling it; row reads (a tied
/// embedding) fault single pages back in from the page cache.
public struct WeightMatrix: @unchecked Sendable {
  public let type: GGMLType
  public let rows: Int
  public let cols: Int
  public let data: UnsafeRawPointer
  public let rowBytes: Int
  /// The packed copy, made on first use; nil when the type or CPU has no packed kernel.
  public let packing: PackedWeights?
  /// The summation order its packed products follow.
  public let numerics: Numerics

  public init(
    type: GGMLType, rows: Int, cols: Int, data: UnsafeRawPointer, releasesSourceAfterPacking: Bool = false,
    numerics: Numerics = .exact
  ) throws(KernelError) {
    guard supportedWeightTypes.contains(type) else { throw .unsupportedType(type, operation: "matrix multiply") }
    guard let rowBytes = type.rowBytes(cols) else { throw .badRowLength(type, cols) }
    self.type = type
    self.rows = rows
    self.cols = cols
    self.data = data
    self.rowBytes = rowBytes
    self.numerics = numerics
    let code = Int32(type.rawValue)
    packing =
      pg_isa() >= 1 && pg_packed_size(code, Int32(clamping: rows), Int32(clamping: cols)) > 0
      ? PackedWeights(releasesSource: releasesSourceAfterPacking) : nil
  }

  @inline(__always) public func row(_ r: Int) -> UnsafeRawPointer { data + r * rowBytes }

  /// The type code `pg_gemm_packed` takes: the GGML type, with the fast-order flag under `.fast`.
  @inline(__always) var packedKernelCode: Int32 {
    Int32(type.rawValue) | (numerics == .fast ? Int32(PG_FAST_ORDER) : 0)
  }

  /// The packed layout, packing now (on the pool's threads) if this is the first call.
  @inline(__always) func packed(pool: ThreadPool) -> UnsafeRawPointer? {
    guard let packing else { return nil }
    if let p = packing.pointer { return p }
    return packing.pack(self, pool: pool)
  }
}

/// Owner of a matrix's packed copy; shared by every copy of the `WeightMatrix` value.
public final class PackedWeights: @unchecked Sendable {
  private let state = Mutex<UnsafeMutableRawPointer?>(nil)
  private let ready = Atomic<Int>(0)  // the packed pointer once published

  private let releasesSource: Bool

  init(releasesSource: Bool) { self.releasesSource = releasesSource }

  deinit { state.withLock { $0?.deallocate() } }

  /// The packed data if it exists yet.
  @inline(__always) var pointer: UnsafeRawPointer? {
    UnsafeRawPointer(bitPattern: ready.load(ordering: .acquiring))
  }

  /// Whether a product has used (and so packed) the matrix yet.
  public var isPacked: Bool { pointer != nil }

  func pack(_ w: WeightMatrix, pool: ThreadPool) -> UnsafeRawPointer? {
    state.withLock { slot in
      if let done = slot { return UnsafeRawPointer(done) }
      let code = Int32(w.type.rawValue)
      let size = pg_packed_size(code, Int32(w.rows), Int32(w.cols))
      let groups = (w.rows + 7) / 8
      let groupBytes = size / max(1, groups)
      let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(64, size), alignment: size >= hugePage ? hugePage : 64)
      adviseHugePages(buffer, byteCount: size)
      // Groups pack independently: each thread packs a contiguous range of them, a few hundred
      // groups at a time, dropping each piece's source pages as soon as it is packed so the peak
      // resident size never holds both copies of a large matrix (the 178 MB output head of Gemma).
      let failed = Atomic<Int>(0)
      let releases = releasesSource
      pool.parallelEven(groups) { range in
        for g0 in stride(from: range.lowerBound, to: range.upperBound, by: 256) {
          let g1 = min(range.upperBound, g0 + 256)
          let firstRow = g0 * 8
          let rowCount = min(w.rows, g1 * 8) - firstRow
          let ok = pg_pack(
            code, w.data + firstRow * w.rowBytes, w.rowBytes, Int32(rowCount), Int32(w.cols),
            buffer + g0 * groupBytes)
          if ok == 0 { failed.store(1, ordering: .relaxed) }
          if releases { dropPages(w.data + firstRow * w.rowBytes, byteCount: rowCount * w.rowBytes) }
        }
      }
      guard failed.load(ordering: .relaxed) == 0 else {
        buffer.deallocate()
        return nil
      }
      if releasesSource { dropPages(w.data, byteCount: w.rows * w.rowBytes) }
      slot = buffer
      ready.store(Int(bitPattern: buffer), ordering: .releasing)
      return UnsafeRawPointer(buffer)
    }
  }
}

/// Transparent huge pages' size on x86-64 Linux.
private let hugePage = 2 << 20

/// Asks for transparent huge pages on the whole 2 MiB pages inside `[start, start + byteCount)`
/// (before they are first touched). Decode streams every packed byte once per token: on 4 KiB pages
/// that is a TLB miss and a hardware-prefetch stop every 64 lines. Only whole huge pages inside the
/// buffer are advised, so resident memory never grows past the buffer. Linux's default `madvise`
/// mode honours it; `never` ignores it.
private func adviseHugePages(_ start: UnsafeMutableRawPointer, byteCount: Int) {
  let lo = (Int(bitPattern: start) + hugePage - 1) / hugePage * hugePage
  let hi = (Int(bitPattern: start) + byteCount) / hugePage * hugePage
  guard hi > lo, let p = UnsafeMutableRawPointer(bitPattern: lo) else { return }
  _ = madvise(p, hi - lo, MADV_HUGEPAGE)
}

/// Unmaps the whole pages inside `[start, start + byteCount)` from this process (file mappings only:
/// they are re-read from the page cache if touched again).
private func dropPages(_ start: UnsafeRawPointer, byteCount: Int) {
  let page = Int(sysconf(Int32(_SC_PAGESIZE)))
  let lo = (Int(bitPattern: start) + page - 1) / page * page
  let hi = (Int(bitPattern: start) + byteCount) / page * page
  guard hi > lo, let p = UnsafeMutableRawPointer(bitPattern: lo) else { return }
  _ = madvise(p, hi - lo, MADV_DONTNEED)
}
