/// Everything that can be wrong with a GGUF file, each case naming what and where.
public enum GGUFError: Error, Equatable, Sendable, CustomStringConvertible {
  case cannotOpen(path: String, reason: String)
  case notGGUF(magic: UInt32)
  case unsupportedVersion(UInt32)
  /// The file ended while reading `what` at byte `offset`.
  case truncated(what: String, offset: Int)
  case limitExceeded(what: String, value: UInt64, limit: UInt64)
  case invalidString(offset: Int)
  case unknownValueType(UInt32, key: String)
  case nestingTooDeep(key: String)
  case duplicateKey(String)
  case duplicateTensor(String)
  case unknownTensorType(UInt32, tensor: String)
  case invalidShape(tensor: String, shape: [UInt64])
  case misalignedTensor(tensor: String, offset: UInt64, alignment: Int)
  case tensorOutOfRange(tensor: String, end: UInt64, dataSize: UInt64)
  case overlappingTensors(String, String)
  case invalidAlignment(UInt64)
  case wrongMetadataType(key: String, expected: String)
  case missingMetadata(String)
  case missingTensor(String)

  public var description: String {
    switch self {
    case .cannotOpen(let path, let reason): "cannot open \(path): \(reason)"
    case .notGGUF(let magic): "not a GGUF file (magic 0x\(String(magic, radix: 16)), expected 'GGUF')"
    case .unsupportedVersion(let v): "unsupported GGUF version \(v) (supported: 2, 3)"
    case .truncated(let what, let offset): "file is truncated: ended while reading \(what) at byte \(offset)"
    case .limitExceeded(let what, let value, let limit): "\(what) is \(value), above the limit of \(limit)"
    case .invalidString(let offset): "string at byte \(offset) is not valid UTF-8"
    case .unknownValueType(let t, let key): "metadata '\(key)' has unknown value type \(t)"
    case .nestingTooDeep(let key): "metadata '\(key)' nests arrays too deeply"
    case .duplicateKey(let key): "metadata key '\(key)' appears twice"
    case .duplicateTensor(let name): "tensor '\(name)' appears twice"
    case .unknownTensorType(let t, let name): "tensor '\(name)' has unknown or unsupported type \(t)"
    case .invalidShape(let name, let shape): "tensor '\(name)' has invalid shape \(shape)"
    case .misalignedTensor(let name, let offset, let a):
      "tensor '\(name)' data offset \(offset) is not a multiple of the alignment \(a)"
    case .tensorOutOfRange(let name, let end, let size):
      "tensor '\(name)' ends at byte \(end) of the data section, which holds only \(size) bytes"
    case .overlappingTensors(let a, let b): "tensors '\(a)' and '\(b)' overlap"
    case .invalidAlignment(let a): "general.alignment \(a) is not a power of two between 1 and 65536"
    case .wrongMetadataType(let key, let expected): "metadata '\(key)' should be \(expected)"
    case .missingMetadata(let key): "required metadata '\(key)' is missing"
    case .missingTensor(let name): "required tensor '\(name)' is missing"
    }
  }
}
