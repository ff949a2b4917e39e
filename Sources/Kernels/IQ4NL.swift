import GGUF

/// IQ4_NL: 32 elements per 18-byte block, an f16 scale `d` then 16 bytes of nibbles (low nibble of
/// byte j is element j, high nibble element j + 16, as Q4_0); a nibble indexes a fixed non-linear
/// table, `x = d · iq4nlValues[nibble]`. Multiplied against Q8_0 activations.
public enum IQ4NL {
  /// ggml's `kvalues_iq4nl`: denser near zero, where weights crowd.
  public static let values: [Int8] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]

  /// The table value of element `j` (0..<32) of the block at `block`.
  @inline(__always) static func code(_ block: UnsafeRawPointer, _ j: Int) -> Int32 {
    let byte = block.load(fromByteOffset: 2 + j % 16, as: UInt8.self)
    return Int32(values[Int(j < 16 ? byte & 0x0F : byte >> 4)])
  }

  static func dequantize(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    for b in 0..<(count / 32) {
      let block = src + b * 18
      let d = loadHalf(block, 0)
      for j in 0..<32 { dst[b * 32 + j] = d * Float(code(block, j)) }
    }
  }

  /// One row · Q8_0 activations: an integer dot per block, one multiply-add per block.
  @inline(__always)
  static func dot(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int) -> Float {
    var sum: Float = 0
    for b in 0..<blocks {
      let wb = w + b * 18
      let ab = a + b * 34
      var sumi: Int32 = 0
      for j in 0..<32 { sumi &+= code(wb, j) &* Int32(ab.load(fromByteOffset: 2 + j, as: Int8.self)) }
      sum = sum.addingProduct(loadHalf(wb, 0) * loadHalf(ab, 0), Float(sumi))
    }
    return sum
  }

  /// A plain quantizer (tests and tools; llama.cpp's searches scales harder): the block's extreme maps
  /// to −127 so the table's wide end takes it, then the scale is refit by least squares to the codes
  /// chosen and the codes chosen again.
  static func quantize(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ count: Int) {
    for b in 0..<(count / 32) {
      let x = src + b * 32
      let block = dst + b * 18
      var extreme: Float = 0
      for j in 0..<32 where abs(x[j]) > abs(extreme) { extreme = x[j] }
      var d = extreme / -127
      var codes = [UInt8](repeating: 0, count: 32)
      for pass in 0..<2 {
        let id: Float = d != 0 ? 1 / d : 0
        var num: Float = 0
        var den: Float = 0
        for j in 0..<32 {
          let target = x[j] * id
          var best = 0
          for k in 1..<16 where abs(Float(values[k]) - target) < abs(Float(values[best]) - target) { best = k }
          codes[j] = UInt8(best)
          num += x[j] * Float(values[best])
          den += Float(values[best]) * Float(values[best])
        }
        if pass == 0, den > 0, num != 0 { d = num / den }
      }
      block.storeBytes(of: Float16(d).bitPattern, as: UInt16.self)
      for j in 0..<16 { block.storeBytes(of: codes[j] | codes[j + 16] << 4, toByteOffset: 2 + j, as: UInt8.self) }
    }
  }
}
