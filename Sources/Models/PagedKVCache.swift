import Kernels

/// Key/value storage for every sequence the engine runs: pools of fixed-size blocks, each holding
/// `blockSize` positions, stored as Float16 (llama.cpp's default) or, with `KVCacheType.q8_0`, as
/// Q8_0 blocks of 32 values along each head (`KVQ8`). Which blocks belong to which sequence is the
/// engine's business (block tables); this type only stores and addresses them.
///
public final class PagedKVCache: @unchecked Sendable {
  public let layers: Int
  public let kvDim: Int
  /// How each value is stored.
  public let type: KVCacheType
  /// Bytes of one position's keys (or values) in one layer.
  public let rowBytes: Int
  public let blockSize: Int
  /// Blocks of the full-history region.
  public let blockCount: Int
  /// Blocks of the sliding-window region (0: no such region).
  public let windowBlockCount: Int
  /// Positions a windowed layer attends back over (itself included), when there is a window region.
  public let window: Int?
  private let windowed: [Bool]  // [layers]: the layer lives in the window region
  private let regionIndex: [Int]  // [layers]: the layer's index within its region
  /// Layers in each region.
  public let fullLayers: Int
  public let windowLayers: Int
  // Rows of `rowBytes` (kvDim Float16s, or kvDim / 32 Q8_0 blocks):
  private let keys: UnsafeMutableRawPointer  // [fullLayers, blockCount, blockSize, row]
  private let values: UnsafeMutableRawPointer  // [fullLayers, blockCount, blockSize, row]
  private let windowKeys: UnsafeMutableRawPointer  // [windowLayers, windowBlockCount, blockSize, row]
  private let windowValues: UnsafeMutableRawPointer  // [windowLayers, windowBlockCount, blockSize, row]

  /// A cache with every layer in the full-history region.
  public convenience init(layers: Int, kvDim: Int, blockSize: Int, blockCount: Int, type: KVCacheType = .f16) {
    self.init(
      layout: KVLayout(layers: layers, kvDim: kvDim), blockSize: blockSize, blockCount: blockCount, type: type)
  }

  /// A cache for `layout`; its windowed layers get a region of their own when `windowBlockCount > 0`.
  /// A `.q8_0` cache needs `layout.headDim` to be a multiple of 32 (check
  /// `KVCacheType.unsupportedReason(headDim:)` first).
  public init(layout: KVLayout, blockSize: Int, blockCount: Int, windowBlockCount: Int = 0, type: KVCacheType = .f16) {
    precondition(
      layout.layers > 0 && layout.kvDim > 0 && blockSize > 0 && blockCount > 0 && windowBlockCount >= 0,
      "PagedKVCache: empty shape")
    precondition(type.unsupportedReason(headDim: layout.headDim) == nil, "PagedKVCache: head size unfit for \(type)")
    let split = windowBlockCount > 0 && layout.window != nil
    layers = layout.layers
    kvDim = layout.kvDim
    self.type = type
    rowBytes = type.rowBytes(kvDim: layout.kvDim)
    self.blockSize = blockSize
    self.blockCount = blockCount
    self.windowBlockCount = split ? windowBlockCount : 0
    window = split ? layout.window : nil
    var windowed = [Bool](repeating: false, count: layout.layers)
    var regionIndex = [Int](repeating: 0, count: layout.layers)
    var counts = (full: 0, window: 0)
    for l in 0..<layout.layers {
      windowed[l] = split && layout.isWindowed(l)
      if windowed[l] {
        regionIndex[l] = counts.window
        counts.window += 1
      } else {
        regionIndex[l] = counts.full
        counts.full += 1
      }
    }
    self.windowed = windowed
    self.regionIndex = regionIndex
    fullLayers = counts.full
    windowLayers = counts.window
    let n = max(1, fullLayers * blockCount * blockSize * rowBytes)
    keys = .allocate(byteCount: n, alignment: 64)
    values = .allocate(byteCount: n, alignment: 64)
    let w = max(1, windowLayers * self.windowBlockCount * blockSize * rowBytes)
    windowKeys = .allocate(byteCount: w, alignment: 64)
    windowValues = .allocate(byteCount: w, alignment: 64)
    for (region, bytes) in [(keys, n), (values, n), (windowKeys, w), (windowValues, w)] {
      switch type {
      case .f16: region.bindMemory(to: Float16.self, capacity: bytes / 2)
      case .q8_0: region.bindMemory(to: UInt8.self, capacity: bytes)
      }
    }
  }

  deinit {
    keys.deallocate()
    values.deallocate()
    windowKeys.deallocate()
    windowValues.deallocate()
  }

  /// Bytes one block takes (keys and values of `layers` layers) when stored as `type`.
  public static func bytesPerBlock(layers: Int, kvDim: Int, blockSize: Int, type: KVCacheType = .f16) -> Int {
    2 * layers * blockSize * type.rowBytes(kvDim: kvDim)
  }

  /// Bytes held by this cache (both regions).
  public var byteCount: Int {
    blockCount * Self.bytesPerBlock(layers: fullLayers, kvDim: kvDim, blockSize: blockSize, type: type)
      + windowBlockCount * Self.bytesPerBlock(layers: windowLayers, kvDim: kvDim, blockSize: blockSize, type: type)
  }

  /// Whether `layer` lives in the window region (read and written through `BatchSlice.windowTable`).
  @inline(__always) public func isWindowed(_ layer: Int) -> Bool { windowed[layer] }

  /// Blocks of `layer`'s region.
  @inline(__always) public func blockCount(layer: Int) -> Int { windowed[layer] ? windowBlockCount : blockCount }

  /// Bytes between consecutive blocks of one layer.
  @inline(__always) public var blockBytes: Int { blockSize * rowBytes }

  /// Start of `layer`'s keys: `[blockCount(layer:), blockSize, row]`, rows of `rowBytes`.
  @inline(__always) public func keyBytes(layer: Int) -> UnsafeMutableRawPointer {
    windowed[layer]
      ? windowKeys + regionIndex[layer] * windowBlockCount * blockBytes
      : keys + regionIndex[layer] * blockCount * blockBytes
  }

  /// Start of `layer`'s values: `[blockCount(layer:), blockSize, row]`, rows of `rowBytes`.
  @inline(__always) public func valueBytes(layer: Int) -> UnsafeMutableRawPointer {
    windowed[layer]
      ? windowValues + regionIndex[layer] * windowBlockCount * blockBytes
      : values + regionIndex[layer] * blockCount * blockBytes
  }

  /// The key row of `slot` in `block` of `layer` (`rowBytes` bytes).
  @inline(__always) public func keyRow(layer: Int, block: Int32, slot: Int) -> UnsafeMutableRawPointer {
    keyBytes(layer: layer) + Int(block) * blockBytes + slot * rowBytes
  }

  /// The value row of `slot` in `block` of `layer` (`rowBytes` bytes).
  @inline(__always) public func valueRow(layer: Int, block: Int32, slot: Int) -> UnsafeMutableRawPointer {
    valueBytes(layer: layer) + Int(block) * blockBytes + slot * rowBytes
  }

  // Float16 views, for a `.f16` cache only.

  /// Distance in Float16 elements between consecutive blocks of one layer (`.f16`).
  @inline(__always) public var blockStride: Int { blockSize * kvDim }

  /// Start of `layer`'s keys: `[blockCount(layer:), blockSize, kvDim]` (`.f16`).
  @inline(__always) public func keyBase(layer: Int) -> UnsafeMutablePointer<Float16> {
    precondition(type == .f16, "keyBase: not an f16 cache")
    return keyBytes(layer: layer).assumingMemoryBound(to: Float16.self)
  }

  /// Start of `layer`'s values: `[blockCount(layer:), blockSize, kvDim]` (`.f16`).
  @inline(__always) public func valueBase(layer: Int) -> UnsafeMutablePointer<Float16> {
    precondition(type == .f16, "valueBase: not an f16 cache")
    return valueBytes(layer: layer).assumingMemoryBound(to: Float16.self)
  }
}
