/// Key/value storage for every sequence the engine runs: pools of fixed-size blocks, each holding
/// `blockSize` positions, stored as Float16 (llama.cpp's default). Which blocks belong to which
/// sequence is the engine's business (block tables); this type only stores and addresses them.
///
/// Two regions: full-history layers keep `blockCount` blocks, each holding those layers; the
/// sliding-window layers of a `KVLayout` (when `windowBlockCount > 0`) keep their own
/// `windowBlockCount` blocks, addressed through a slice's `windowTable`, so a sequence needs only the
/// window's blocks there. With `windowBlockCount == 0` every layer lives in the full region (a
/// windowed layer then simply never reads further back than its window).
public final class PagedKVCache: @unchecked Sendable {
  public let layers: Int
  public let kvDim: Int
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
  private let keys: UnsafeMutablePointer<Float16>  // [fullLayers, blockCount, blockSize, kvDim]
  private let values: UnsafeMutablePointer<Float16>  // [fullLayers, blockCount, blockSize, kvDim]
  private let windowKeys: UnsafeMutablePointer<Float16>  // [windowLayers, windowBlockCount, blockSize, kvDim]
  private let windowValues: UnsafeMutablePointer<Float16>  // [windowLayers, windowBlockCount, blockSize, kvDim]

  /// A cache with every layer in the full-history region.
  public convenience init(layers: Int, kvDim: Int, blockSize: Int, blockCount: Int) {
    self.init(layout: KVLayout(layers: layers, kvDim: kvDim), blockSize: blockSize, blockCount: blockCount)
  }

  /// A cache for `layout`; its windowed layers get a region of their own when `windowBlockCount > 0`.
  public init(layout: KVLayout, blockSize: Int, blockCount: Int, windowBlockCount: Int = 0) {
    precondition(
      layout.layers > 0 && layout.kvDim > 0 && blockSize > 0 && blockCount > 0 && windowBlockCount >= 0,
      "PagedKVCache: empty shape")
    let split = windowBlockCount > 0 && layout.window != nil
    layers = layout.layers
    kvDim = layout.kvDim
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
    let n = max(1, fullLayers * blockCount * blockSize * kvDim)
    keys = .allocate(capacity: n)
    values = .allocate(capacity: n)
    let w = max(1, windowLayers * self.windowBlockCount * blockSize * kvDim)
    windowKeys = .allocate(capacity: w)
    windowValues = .allocate(capacity: w)
  }

  deinit {
    keys.deallocate()
    values.deallocate()
    windowKeys.deallocate()
    windowValues.deallocate()
  }

  /// Bytes one block takes (keys and values of `layers` layers).
  public static func bytesPerBlock(layers: Int, kvDim: Int, blockSize: Int) -> Int {
    2 * MemoryLayout<Float16>.stride * layers * blockSize * kvDim
  }

  /// Bytes held by this cache (both regions).
  public var byteCount: Int {
    blockCount * Self.bytesPerBlock(layers: fullLayers, kvDim: kvDim, blockSize: blockSize)
      + windowBlockCount * Self.bytesPerBlock(layers: windowLayers, kvDim: kvDim, blockSize: blockSize)
  }

  /// Whether `layer` lives in the window region (read and written through `BatchSlice.windowTable`).
  @inline(__always) public func isWindowed(_ layer: Int) -> Bool { windowed[layer] }

  /// Blocks of `layer`'s region.
  @inline(__always) public func blockCount(layer: Int) -> Int { windowed[layer] ? windowBlockCount : blockCount }

  /// Distance in Float16 elements between consecutive blocks of one layer.
  @inline(__always) public var blockStride: Int { blockSize * kvDim }

  /// Start of `layer`'s keys: `[blockCount(layer:), blockSize, kvDim]`.
  @inline(__always) public func keyBase(layer: Int) -> UnsafeMutablePointer<Float16> {
    windowed[layer]
      ? windowKeys + regionIndex[layer] * windowBlockCount * blockStride
      : keys + regionIndex[layer] * blockCount * blockStride
  }

  /// Start of `layer`'s values: `[blockCount(layer:), blockSize, kvDim]`.
  @inline(__always) public func valueBase(layer: Int) -> UnsafeMutablePointer<Float16> {
    windowed[layer]
      ? windowValues + regionIndex[layer] * windowBlockCount * blockStride
      : values + regionIndex[layer] * blockCount * blockStride
  }

  @inline(__always) func keys(layer: Int, block: Int32, slot: Int) -> UnsafeMutablePointer<Float16> {
    keyBase(layer: layer) + Int(block) * blockStride + slot * kvDim
  }

  @inline(__always) func values(layer: Int, block: Int32, slot: Int) -> UnsafeMutablePointer<Float16> {
    valueBase(layer: layer) + Int(block) * blockStride + slot * kvDim
  }
}
