import TestSupport
import GGUF
import Kernels

/// Shapes and seeded inputs shared by the kernel tests.
enum KernelTestData {
  /// Types with a fast kernel and a reference twin.
  static let types: [GGMLType] = [.q4_0, .q4_1, .q8_0, .f32, .f16, .bf16] + newBlockTypes + [.iq4_nl]
  /// Types added for Gemma 3 (issue 4): the 32-element Q5 pair and the 256-element K-quants.
  static let newBlockTypes: [GGMLType] = [.q5_0, .q5_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]
  /// Block-type row lengths: one block, a few, and an odd number of many.
  static let blockCols = [32, 96, 160, 544]
  /// Super-block (256) row lengths: one, three and an odd many.
  static let superBlockCols = [256, 768, 2304]
  /// Float-type row lengths add ones that no SIMD width or block divides.
  static let floatCols = [1, 7, 33, 100] + blockCols

  static func cols(for type: GGMLType) -> [Int] {
    switch type.blockSize {
    case 1: floatCols
    case 256: superBlockCols
    default: blockCols
    }
  }

  /// One row of `type` for `cols` elements: quantized from floats with varied per-block scale
  /// and offset, so blocks differ and Q4_1 minimums are not all near zero.
  static func row(_ type: GGMLType, cols: Int, rng: inout SplitMix64) -> [UInt8] {
    var values = [Float](repeating: 0, count: cols)
    for start in stride(from: 0, to: cols, by: 32) {
      let scale = Float.random(in: 0.01...4, using: &rng)
      let shift = Float.random(in: -1...1, using: &rng) * scale
      for i in start..<min(cols, start + 32) { values[i] = Float.random(in: -scale...scale, using: &rng) + shift }
    }
    return quantizeMatrix(type, values, cols: cols)
  }

  /// A row of raw random codes with finite random scales: covers every nibble and byte value,
  /// including ones `quantizeRow` never emits.
  static func rawRow(_ type: GGMLType, cols: Int, rng: inout SplitMix64) -> [UInt8] {
    var bytes = rng.bytes(type.rowBytes(cols)!)
    // Byte offsets of each block's f16 scales (the only bytes that must stay finite).
    let halves: [Int]
    switch type {
    case .q4_0, .q8_0, .q5_0, .iq4_nl: halves = [0]
    case .q4_1, .q4_K, .q5_K: halves = [0, 2]
    case .q6_K: halves = [208]
    default: return row(type, cols: cols, rng: &rng)
    }
    for b in 0..<(cols / type.blockSize) {
      for h in halves {
        let v = Float16(Float.random(in: -0.1...0.1, using: &rng)).bitPattern
        bytes[b * type.typeSize + h] = UInt8(v & 0xFF)
        bytes[b * type.typeSize + h + 1] = UInt8(v >> 8)
      }
    }
    return bytes
  }

  static func dequantized(_ type: GGMLType, _ row: [UInt8], cols: Int) -> [Float] {
    var out = [Float](repeating: .nan, count: cols)
    row.withUnsafeBytes { src in
      out.withUnsafeMutableBufferPointer { dequantizeRow(type, src.baseAddress!, $0.baseAddress!, cols) }
    }
    return out
  }
}
