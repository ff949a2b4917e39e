/// Growable, 64-byte aligned scratch memory reused across kernel calls, so steady-state decoding
/// allocates nothing: a buffer only grows (and reallocates) when a larger request arrives.
public final class KernelWorkspace: @unchecked Sendable {
  private var base: UnsafeMutableRawPointer
  private var capacity: Int

  public init(bytes: Int = 1 << 16) {
    capacity = max(64, bytes)
    base = .allocate(byteCount: capacity, alignment: 64)
  }

  deinit { base.deallocate() }

  /// At least `bytes` bytes; contents are unspecified and valid until the next call.
  public func bytes(_ bytes: Int) -> UnsafeMutableRawPointer {
    if bytes > capacity {
      base.deallocate()
      capacity = max(bytes, capacity * 2)
      base = .allocate(byteCount: capacity, alignment: 64)
    }
    return base
  }
}
