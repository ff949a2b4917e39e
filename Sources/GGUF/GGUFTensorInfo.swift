/// Where one tensor lives in a GGUF file and how it is laid out.
///
/// `shape` is in ggml order: `shape[0]` is the contiguous (row) dimension, so a weight matrix
/// with `shape == [nIn, nOut]` holds `nOut` rows of `nIn` elements.
public struct GGUFTensorInfo: Sendable, Equatable {
  public var name: String
  public var type: GGMLType
  public var shape: [Int]
  /// Byte offset inside the data section.
  public var offset: Int
  public var byteCount: Int

  public var elementCount: Int { shape.reduce(1, *) }
  /// Elements per row (`shape[0]`).
  public var rowLength: Int { shape.first ?? 1 }
  /// Number of rows (product of the remaining dimensions).
  public var rowCount: Int { shape.dropFirst().reduce(1, *) }

  public init(name: String, type: GGMLType, shape: [Int], offset: Int, byteCount: Int) {
    self.name = name
    self.type = type
    self.shape = shape
    self.offset = offset
    self.byteCount = byteCount
  }
}
