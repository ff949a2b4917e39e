import GGUF

/// The plain reference dot product of one quantized row with float activations: decode each element
/// exactly as `dequantizeRow` does and accumulate in Double. It is the oracle that every fast kernel
/// is tested against, so it stays obviously correct rather than fast.
public func vecDotGeneric(_ type: GGMLType, _ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ count: Int) -> Float {
  var sum: Double = 0
  func element(_ i: Int) -> Float {
    switch type {
    case .f32: return row.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
    case .f16: return loadHalf(row, 2 * i)
    case .bf16: return bf16ToFloat(row.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
    case .q8_0:
      let block = row + (i / 32) * 34
      return loadHalf(block, 0) * Float(block.load(fromByteOffset: 2 + i % 32, as: Int8.self))
    case .q4_0, .q4_1:
      let hasMin = type == .q4_1
      let block = row + (i / 32) * type.typeSize
      let j = i % 32
      let byte = block.load(fromByteOffset: (hasMin ? 4 : 2) + j % 16, as: UInt8.self)
      let nibble = j < 16 ? byte & 0x0F : byte >> 4
      let d = loadHalf(block, 0)
      return hasMin ? d * Float(nibble) + loadHalf(block, 2) : d * Float(Int(nibble) - 8)
    case .iq4_nl:
      let block = row + (i / 32) * 18
      return loadHalf(block, 0) * Float(IQ4NL.code(block, i % 32))
    case .q5_0, .q5_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K:
      return referenceElement(type, row, i)
    default:
      preconditionFailure("vecDotGeneric: \(type) not supported")
    }
  }
  for i in 0..<count { sum += Double(element(i)) * Double(x[i]) }
  return Float(sum)
}
