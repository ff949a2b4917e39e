import GGUF

/// Block layouts (ggml's, byte for byte):
///   Q4_0: f16 d, 16 bytes of nibbles;            x[j] = d * (lo(q[j]) - 8), x[j+16] = d * (hi(q[j]) - 8)
///   Q4_1: f16 d, f16 m, 16 bytes of nibbles;     x[j] = d * lo(q[j]) + m,   x[j+16] = d * hi(q[j]) + m
///   Q8_0: f16 d, 32 signed bytes;                x[j] = d * q[j]
/// Q5_0/Q5_1 are described in Q5Blocks.swift, the K-quants in KQuants.swift.
@inline(__always) func loadHalf(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
  Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
}

@inline(__always) func bf16ToFloat(_ bits: UInt16) -> Float {
  Float(bitPattern: UInt32(bits) << 16)
}

public enum KernelError: Error, Equatable, CustomStringConvertible {
  case unsupportedType(GGMLType, operation: String)
  case badRowLength(GGMLType, Int)

  public var description: String {
    switch self {
    case .unsupportedType(let t, let op): "tensor type \(t) is not supported for \(op) yet"
    case .badRowLength(let t, let n): "row length \(n) is not a multiple of \(t)'s block size \(t.blockSize)"
    }
  }
}

/// Types this build can dequantize and multiply.
public let supportedWeightTypes: Set<GGMLType> = [
  .f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_nl,
]

/// Expands `count` elements of one row of type `type` at `src` into `dst`.
/// `count` must be a multiple of the type's block size; the caller checked the type is supported.
public func dequantizeRow(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
  switch type {
  case .f32:
    dst.update(from: src.assumingMemoryBound(to: Float.self), count: count)
  case .f16:
    for i in 0..<count { dst[i] = loadHalf(src, 2 * i) }
  case .bf16:
    for i in 0..<count { dst[i] = bf16ToFloat(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
  case .q8_0:
    for b in 0..<(count / 32) {
      let block = src + b * 34
      let d = loadHalf(block, 0)
      let q = (block + 2).assumingMemoryBound(to: Int8.self)
      let out = dst + b * 32
      for j in 0..<32 { out[j] = d * Float(q[j]) }
    }
  case .q4_0:
    for b in 0..<(count / 32) {
      let block = src + b * 18
      let d = loadHalf(block, 0)
      let q = (block + 2).assumingMemoryBound(to: UInt8.self)
      let out = dst + b * 32
      for j in 0..<16 {
        out[j] = d * Float(Int(q[j] & 0x0F) - 8)
        out[j + 16] = d * Float(Int(q[j] >> 4) - 8)
      }
    }
  case .q4_1:
    for b in 0..<(count / 32) {
      let block = src + b * 20
      let d = loadHalf(block, 0)
      let m = loadHalf(block, 2)
      let q = (block + 4).assumingMemoryBound(to: UInt8.self)
      let out = dst + b * 32
      for j in 0..<16 {
        out[j] = d * Float(q[j] & 0x0F) + m
        out[j + 16] = d * Float(q[j] >> 4) + m
      }
    }
  case .iq4_nl:
    IQ4NL.dequantize(src, dst, count)
  case .q5_0, .q5_1:
    dequantizeQ5(type, src, dst, count)
  case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K:
    dequantizeK(type, src, dst, count)
  default:
    preconditionFailure("dequantizeRow: \(type) not supported; check supportedWeightTypes first")
  }
}
