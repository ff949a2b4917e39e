import GGUF
import KernelsC
import Synchronization

/// A read-only view of a 2-D weight tensor in place (usually inside the mmapped GGUF file).
/// `rows` output features, each a row of `cols` elements stored as `type`.
///
/// Types with a row-interleaved SIMD layout (Q4_1, Q8_0; see `pg_pack`) are repacked the first
/// time `matmul` uses the matrix, once, into memory owned by the view's `packing`; matrices only
/// read row by row (embedding lookups) are never repacked.
public struct WeightMatrix: @unchecked Sendable {
  public let type: GGMLType
  public let rows: Int
  public let cols: Int
  public let data: UnsafeRawPointer
  public let rowBytes: Int
  /// The packed copy, made on first use; nil when the type or CPU has no packed kernel.
  public let packing: PackedWeights?

  public init(type: GGMLType, rows: Int, cols: Int, data: UnsafeRawPointer) throws(KernelError) {
    guard supportedWeightTypes.contains(type) else { throw .unsupportedType(type, operation: "matrix multiply") }
    guard let rowBytes = type.rowBytes(cols) else { throw .badRowLength(type, cols) }
    self.type = type
    self.rows = rows
    self.cols = cols
    self.data = data
    self.rowBytes = rowBytes
    let code = Int32(type.rawValue)
    packing =
      pg_isa() >= 1 && pg_packed_size(code, Int32(clamping: rows), Int32(clamping: cols)) > 0
      ? PackedWeights() : nil
  }

  @inline(__always) public func row(_ r: Int) -> UnsafeRawPointer { data + r * rowBytes }

  /// The packed layout, packing now if this is the first call.
  @inline(__always) func packed() -> UnsafeRawPointer? {
    guard let packing else { return nil }
    if let p = packing.pointer { return p }
    return packing.pack(self)
  }
}

/// Owner of a matrix's packed copy; shared by every copy of the `WeightMatrix` value.
public final class PackedWeights: @unchecked Sendable {
  private let state = Mutex<UnsafeMutableRawPointer?>(nil)
  private let ready = Atomic<Int>(0)  // the packed pointer once published

  init() {}

  deinit { state.withLock { $0?.deallocate() } }

  /// The packed data if it exists yet.
  @inline(__always) var pointer: UnsafeRawPointer? {
    UnsafeRawPointer(bitPattern: ready.load(ordering: .acquiring))
  }

  func pack(_ w: WeightMatrix) -> UnsafeRawPointer? {
    state.withLock { slot in
      if let done = slot { return UnsafeRawPointer(done) }
      let code = Int32(w.type.rawValue)
      let size = pg_packed_size(code, Int32(w.rows), Int32(w.cols))
      let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(64, size), alignment: 64)
      guard pg_pack(code, w.data, w.rowBytes, Int32(w.rows), Int32(w.cols), buffer) != 0 else {
        buffer.deallocate()
        return nil
      }
      slot = buffer
      ready.store(Int(bitPattern: buffer), ordering: .releasing)
      return UnsafeRawPointer(buffer)
    }
  }
}
