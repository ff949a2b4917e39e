import GGUF

/// A read-only view of a 2-D weight tensor in place (usually inside the mmapped GGUF file).
/// `rows` output features, each a row of `cols` elements stored as `type`.
public struct WeightMatrix: @unchecked Sendable {
  public let type: GGMLType
  public let rows: Int
  public let cols: Int
  public let data: UnsafeRawPointer
  public let rowBytes: Int

  public init(type: GGMLType, rows: Int, cols: Int, data: UnsafeRawPointer) throws(KernelError) {
    guard supportedWeightTypes.contains(type) else { throw .unsupportedType(type, operation: "matrix multiply") }
    guard let rowBytes = type.rowBytes(cols) else { throw .badRowLength(type, cols) }
    self.type = type
    self.rows = rows
    self.cols = cols
    self.data = data
    self.rowBytes = rowBytes
  }

  @inline(__always) public func row(_ r: Int) -> UnsafeRawPointer { data + r * rowBytes }
}
