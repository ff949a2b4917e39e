/// Caps applied while parsing untrusted files, so a crafted header cannot make the reader allocate
/// or loop without bound. The defaults comfortably hold real models (a 262k-token vocabulary,
/// a few thousand tensors).
public struct GGUFLimits: Sendable {
  public var maxStringLength = 1 << 24
  public var maxArrayLength = 1 << 22
  public var maxArrayNesting = 4
  public var maxMetadataCount = 1 << 16
  public var maxTensorCount = 1 << 16
  public var maxDimensions = 4
  public var maxElementsPerTensor: UInt64 = 1 << 40

  public init() {}
  public static let `default` = GGUFLimits()
}
