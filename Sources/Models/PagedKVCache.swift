/// Key/value storage for every sequence the engine runs: a pool of fixed-size blocks, each holding
/// `blockSize` positions of every layer, stored as Float16 (llama.cpp's default). Which blocks belong to
/// which sequence is the engine's business (block tables); this type only stores and addresses them.
public final class PagedKVCache: @unchecked Sendable {
  public let layers: Int
  public let kvDim: Int
  public let blockSize: Int
  public let blockCount: Int
  private let keys: UnsafeMutablePointer<Float16>  // [layers, blockCount, blockSize, kvDim]
  private let values: UnsafeMutablePointer<Float16>  // [layers, blockCount, blockSize, kvDim]

  public init(layers: Int, kvDim: Int, blockSize: Int, blockCount: Int) {
    precondition(layers > 0 && kvDim > 0 && blockSize > 0 && blockCount > 0, "PagedKVCache: empty shape")
    self.layers = layers
    self.kvDim = kvDim
    self.blockSize = blockSize
    self.blockCount = blockCount
    let n = layers * blockCount * blockSize * kvDim
    keys = .allocate(capacity: n)
    values = .allocate(capacity: n)
  }

  deinit {
    keys.deallocate()
    values.deallocate()
  }

  /// Bytes one block takes (keys and values of every layer).
  public static func bytesPerBlock(layers: Int, kvDim: Int, blockSize: Int) -> Int {
    2 * MemoryLayout<Float16>.stride * layers * blockSize * kvDim
  }

  /// Bytes held by this cache.
  public var byteCount: Int { blockCount * Self.bytesPerBlock(layers: layers, kvDim: kvDim, blockSize: blockSize) }

  /// Distance in Float16 elements between consecutive blocks of one layer.
  @inline(__always) public var blockStride: Int { blockSize * kvDim }

  /// Start of `layer`'s keys: `[blockCount, blockSize, kvDim]`.
  @inline(__always) public func keyBase(layer: Int) -> UnsafeMutablePointer<Float16> {
    keys + layer * blockCount * blockStride
  }

  /// Start of `layer`'s values: `[blockCount, blockSize, kvDim]`.
  @inline(__always) public func valueBase(layer: Int) -> UnsafeMutablePointer<Float16> {
    values + layer * blockCount * blockStride
  }

  @inline(__always) func keys(layer: Int, block: Int32, slot: Int) -> UnsafeMutablePointer<Float16> {
    keyBase(layer: layer) + Int(block) * blockStride + slot * kvDim
  }

  @inline(__always) func values(layer: Int, block: Int32, slot: Int) -> UnsafeMutablePointer<Float16> {
    valueBase(layer: layer) + Int(block) * blockStride + slot * kvDim
  }
}
