import GGUF

/// Dot product of one weight row with one row of activations in `ActivationFormat(weights:)`.
/// Integer products within a block, one float multiply-add per block — llama.cpp's arithmetic.
@inline(__always)
public func vecDot(_ type: GGMLType, _ row: UnsafeRawPointer, _ act: UnsafeRawPointer, _ count: Int) -> Float {
  switch type {
  case .q4_0: return vecDotQ4_0Q8_0(row, act, count / 32)
  case .q4_1: return vecDotQ4_1Q8_1(row, act, count / 32)
  case .q8_0: return vecDotQ8_0Q8_0(row, act, count / 32)
  case .q5_0: return vecDotQ5_0Q8_0(row, act, count / 32)
  case .iq4_nl: return IQ4NL.dot(row, act, count / 32)
  case .q5_1: return vecDotQ5_1Q8_1(row, act, count / 32)
  case .q4_K: return vecDotQ4_KQ8_K(row, act, count / 256)
  case .q5_K: return vecDotQ5_KQ8_K(row, act, count / 256)
  case .q6_K: return vecDotQ6_KQ8_K(row, act, count / 256)
  case .q2_K: return vecDotQ2_KQ8_K(row, act, count / 256)
  case .q3_K: return vecDotQ3_KQ8_K(row, act, count / 256)
  case .f32: return dotF32(row.assumingMemoryBound(to: Float.self), act.assumingMemoryBound(to: Float.self), count)
  default:
    // F16/BF16 rows: expand per element (not a hot type for the shipped models).
    var sum: Float = 0
    let x = act.assumingMemoryBound(to: Float.self)
    for i in 0..<count {
      let w =
        type == .f16
        ? loadHalf(row, 2 * i) : bf16ToFloat(row.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
      sum += w * x[i]
    }
    return sum
  }
}

@inline(__always)
func vecDotQ4_1Q8_1(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int) -> Float {
  var sum: Float = 0
  for b in 0..<blocks {
    let wb = w + b * 20
    let ab = a + b * 36
    let q = (wb + 4).assumingMemoryBound(to: UInt8.self)
    let y = (ab + 4).assumingMemoryBound(to: Int8.self)
    var sumi: Int32 = 0
    for j in 0..<16 {
      sumi += Int32(q[j] & 0x0F) * Int32(y[j]) + Int32(q[j] >> 4) * Int32(y[j + 16])
    }
    sum += loadHalf(wb, 0) * loadHalf(ab, 0) * Float(sumi) + loadHalf(wb, 2) * loadHalf(ab, 2)
  }
  return sum
}

@inline(__always)
func vecDotQ4_0Q8_0(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int) -> Float {
  var sum: Float = 0
  for b in 0..<blocks {
    let wb = w + b * 18
    let ab = a + b * 34
    let q = (wb + 2).assumingMemoryBound(to: UInt8.self)
    let y = (ab + 2).assumingMemoryBound(to: Int8.self)
    var sumi: Int32 = 0
    for j in 0..<16 {
      sumi += (Int32(q[j] & 0x0F) - 8) * Int32(y[j]) + (Int32(q[j] >> 4) - 8) * Int32(y[j + 16])
    }
    sum += loadHalf(wb, 0) * loadHalf(ab, 0) * Float(sumi)
  }
  return sum
}

@inline(__always)
func vecDotQ8_0Q8_0(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int) -> Float {
  var sum: Float = 0
  for b in 0..<blocks {
    let wb = w + b * 34
    let ab = a + b * 34
    let q = (wb + 2).assumingMemoryBound(to: Int8.self)
    let y = (ab + 2).assumingMemoryBound(to: Int8.self)
    var sumi: Int32 = 0
    for j in 0..<32 { sumi += Int32(q[j]) * Int32(y[j]) }
    sum += loadHalf(wb, 0) * loadHalf(ab, 0) * Float(sumi)
  }
  return sum
}

/// Reference twin of `vecDot`: expand the weight row and the activations to floats and accumulate
/// in Double.
public func vecDotReference(_ type: GGMLType, _ row: UnsafeRawPointer, _ act: UnsafeRawPointer, _ count: Int) -> Float {
  var x = [Float](repeating: 0, count: count)
  x.withUnsafeMutableBufferPointer { dequantizeActivations(ActivationFormat(weights: type), act, $0.baseAddress!, count) }
  return x.withUnsafeBufferPointer { vecDotGeneric(type, row, $0.baseAddress!, count) }
}
