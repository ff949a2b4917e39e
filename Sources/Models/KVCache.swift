/// Per-sequence key/value cache: for every layer, `capacity` positions of `kvDim` values, stored as
/// Float16 (as llama.cpp does by default), plus the number of positions filled so far.
public final class KVCache: @unchecked Sendable {
  public let layers: Int
  public let capacity: Int
  public let kvDim: Int
  /// Positions filled (the next token's position).
  public internal(set) var count = 0
  private let keys: UnsafeMutablePointer<Float16>  // [layers, capacity, kvDim]
  private let values: UnsafeMutablePointer<Float16>  // [layers, capacity, kvDim]

  public init(layers: Int, capacity: Int, kvDim: Int) {
    self.layers = layers
    self.capacity = capacity
    self.kvDim = kvDim
    keys = .allocate(capacity: layers * capacity * kvDim)
    values = .allocate(capacity: layers * capacity * kvDim)
  }

  deinit {
    keys.deallocate()
    values.deallocate()
  }

  /// Bytes held by this cache.
  public var byteCount: Int { 2 * 2 * layers * capacity * kvDim }

  @inline(__always) func keys(layer: Int, position: Int) -> UnsafeMutablePointer<Float16> {
    keys + (layer * capacity + position) * kvDim
  }

  @inline(__always) func values(layer: Int, position: Int) -> UnsafeMutablePointer<Float16> {
    values + (layer * capacity + position) * kvDim
  }

  /// Drops every position from `position` on (used to rewind, e.g. to re-run a prompt).
  public func truncate(to position: Int) {
    count = min(count, max(0, position))
  }
}
