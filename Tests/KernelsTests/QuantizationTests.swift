import TestSupport
import GGUF
import Kernels
import Testing

/// `dequantizeRow`, `vecDotGeneric` and `quantizeRow` must agree with each other and with the
/// block layouts: decoding is exact, encoding stays within one quantization step.
@Suite("Quantize and dequantize")
struct QuantizationTests {
  @Test("vecDotGeneric equals a Double dot of dequantizeRow's output, bit for bit", arguments: KernelTestData.types)
  func genericMatchesDequantize(_ type: GGMLType) {
    var rng = SplitMix64(seed: 0x51 &+ UInt64(type.rawValue))
    for cols in KernelTestData.cols(for: type) {
      for raw in [false, true] {
        let row =
          raw
          ? KernelTestData.rawRow(type, cols: cols, rng: &rng) : KernelTestData.row(type, cols: cols, rng: &rng)
        let w = KernelTestData.dequantized(type, row, cols: cols)
        #expect(w.allSatisfy { $0.isFinite })
        let x = rng.floats(cols, in: -2...2)
        var expected: Double = 0
        for i in 0..<cols { expected += Double(w[i]) * Double(x[i]) }
        let got = row.withUnsafeBytes { r in x.withUnsafeBufferPointer { vecDotGeneric(type, r.baseAddress!, $0.baseAddress!, cols) } }
        #expect(got == Float(expected), "\(type) cols \(cols) raw \(raw)")
        // A unit vector picks out exactly one decoded element.
        for i in Set([0, cols / 2, cols - 1, min(cols - 1, 17)]) {
          var unit = [Float](repeating: 0, count: cols)
          unit[i] = 1
          let picked = row.withUnsafeBytes { r in unit.withUnsafeBufferPointer { vecDotGeneric(type, r.baseAddress!, $0.baseAddress!, cols) } }
          #expect(picked == w[i], "\(type) cols \(cols) element \(i)")
        }
      }
    }
  }

  @Test("dequantizeRow decodes hand-built blocks exactly")
  func handBuiltBlocks() {
    // d = 0.5 (f16 0x3800); m = -1 (f16 0xBC00).
    let codes: [Int] = Array(0..<32)
    var q8: [UInt8] = [0x00, 0x38] + codes.map { UInt8(bitPattern: Int8($0 * 8 - 128)) }
    let q8Expected: [Float] = codes.map { Float($0 * 8 - 128) * 0.5 }
    #expect(KernelTestData.dequantized(.q8_0, q8, cols: 32) == q8Expected)
    q8[1] = 0  // d = 0: every element decodes to zero
    #expect(KernelTestData.dequantized(.q8_0, q8, cols: 32) == [Float](repeating: 0, count: 32))
    let low: [Int] = Array(0..<16)
    let nibbles: [UInt8] = low.map { UInt8($0) | UInt8(15 - $0) << 4 }
    let q40: [UInt8] = [0x00, 0x38] + nibbles
    let lo40: [Float] = low.map { Float($0 - 8) * 0.5 }
    let hi40: [Float] = low.map { Float(7 - $0) * 0.5 }
    #expect(KernelTestData.dequantized(.q4_0, q40, cols: 32) == lo40 + hi40)
    let q41: [UInt8] = [0x00, 0x38, 0x00, 0xBC] + nibbles
    let lo41: [Float] = low.map { Float($0) * 0.5 - 1 }
    let hi41: [Float] = low.map { Float(15 - $0) * 0.5 - 1 }
    #expect(KernelTestData.dequantized(.q4_1, q41, cols: 32) == lo41 + hi41)
    #expect(KernelTestData.dequantized(.bf16, [0x80, 0x3F, 0x00, 0xC0], cols: 2) == [1, -2])
    #expect(KernelTestData.dequantized(.f16, [0x00, 0x3C, 0x00, 0xC0], cols: 2) == [1, -2])
  }

  /// Worst error `quantizeRow` → `dequantizeRow` may introduce in one block.
  static func bound(_ type: GGMLType, block x: ArraySlice<Float>) -> (perElement: (Float) -> Float, label: String) {
    let amax = x.map(abs).max()!
    let lo = x.min()!
    let hi = x.max()!
    // Scales are stored as f16: a decoded code q carries an extra |q| times the scale's rounding,
    // relative 2^-11, or absolute 2^-25 once the scale is an f16 subnormal (tiny blocks).
    let f16 = Float(1) / 2048
    let sub: Float = 0x1p-25
    switch type {
    case .q8_0:
      // Round to nearest: half a step, well inside the amax/127 the format promises.
      let step = amax / 127
      return ({ _ in step / 2 + 127 * (step * f16 + sub) }, "half a step (amax/254)")
    case .q4_0:
      // The value opposite the largest magnitude would need code 16 and is clamped to 15.
      let step = amax / 8
      return ({ _ in step * (1 + 8 * f16) + 8 * sub }, "one step (amax/8)")
    case .q4_1:
      // min and max both land on codes (0 and 15), so nothing is clamped: half a step.
      let step = (hi - lo) / 15
      return ({ _ in step / 2 + 15 * (step * f16 + sub) + abs(lo) * f16 + sub }, "half a step ((max-min)/30)")
    case .f16:
      return ({ abs($0) * f16 + 3e-8 }, "half an f16 ulp")
    case .bf16:
      return ({ abs($0) / 256 }, "half a bf16 ulp")
    case .q5_0:
      let step = amax / 16
      return ({ _ in step * (1 + 16 * f16) + 16 * sub }, "one step (amax/16)")
    case .q5_1:
      let step = (hi - lo) / 31
      return ({ _ in step / 2 + 31 * (step * f16 + sub) + abs(lo) * f16 + sub }, "half a step ((max-min)/62)")
    case .q2_K, .q4_K, .q5_K:
      // Per sub-block: half a code step, plus the sub-block scale's and minimum's rounding to
      // 4 or 6 bits against the super-block scales (half a super-step each, the scale's error
      // multiplied by the top code). The minimum is clamped at 0, so the range includes 0.
      let range = max(hi, 0) - min(lo, 0)
      let (levels, scaleLevels): (Float, Float) = type == .q2_K ? (3, 15) : (type == .q4_K ? 15 : 31, 63)
      // A super-block scale near range/(levels·scaleLevels) may be an f16 subnormal (tiny blocks):
      // its absolute rounding 2^-25 is then multiplied by up to levels·scaleLevels.
      let limit =
        range / levels / 2 + range / scaleLevels / 2 + amax / scaleLevels / 2 + (range + amax) / 512
        + 2 * levels * scaleLevels * sub
      return ({ _ in limit }, "half a step plus scale rounding")
    case .iq4_nl:
      // The extreme lands on −127; the widest gap between table values is 24 and the other end
      // stops at +113 (14 short of the extreme), so about 14/127 of amax, with slack for the
      // least-squares refit of the scale and its f16 rounding.
      return ({ _ in amax * 20 / 127 + 127 * (amax / 127 * f16 + sub) }, "the table's widest gap or clamp")
    case .q3_K, .q6_K:
      // One step at the clamped side (like Q4_0), plus the sub-block scale's rounding against d
      // (half of amax/levels/scaleLevels per unit code, times the largest code).
      let (levels, scaleLevels): (Float, Float) = type == .q3_K ? (4, 32) : (32, 128)
      let limit = amax / levels + amax / scaleLevels / 2 + amax / 512 + levels * scaleLevels * sub
      return ({ _ in limit }, "one step plus scale rounding")
    default:
      return ({ _ in 0 }, "exact")
    }
  }

  @Test("quantizeRow then dequantizeRow stays within the type's error bound", arguments: KernelTestData.types)
  func roundTrip(_ type: GGMLType) {
    var rng = SplitMix64(seed: 0x7172 &+ UInt64(type.rawValue))
    for cols in KernelTestData.cols(for: type) {
      for pattern in 0..<5 {
        var x: [Float]
        switch pattern {
        case 0: x = rng.floats(cols)
        case 1: x = rng.floats(cols, in: 100...300)  // large offset: Q4_1's minimum matters
        case 2: x = rng.floats(cols, in: -1e-3...1e-3)
        case 3: x = [Float](repeating: 0.375, count: cols)  // constant blocks
        default:
          x = rng.floats(cols, in: -0.1...0.1)
          for i in stride(from: 0, to: cols, by: 32) { x[i] = i % 64 == 0 ? -7 : 7 }  // one dominant value per block
        }
        let encoded = quantizeMatrix(type, x, cols: cols)
        #expect(encoded.count == type.rowBytes(cols))
        let back = KernelTestData.dequantized(type, encoded, cols: cols)
        for start in stride(from: 0, to: cols, by: max(32, type.blockSize)) {
          let block = x[start..<min(cols, start + max(32, type.blockSize))]
          let (limit, label) = Self.bound(type, block: block)
          for i in block.indices {
            let err = abs(back[i] - x[i])
            #expect(err <= limit(x[i]), "\(type) cols \(cols) pattern \(pattern) [\(i)]: \(x[i]) -> \(back[i]), over \(label)")
          }
        }
      }
    }
  }

  @Test("an all-zero block quantizes to exact zeros", arguments: KernelTestData.types)
  func zeros(_ type: GGMLType) {
    let cols = 2 * max(32, type.blockSize)
    let back = KernelTestData.dequantized(type, quantizeMatrix(type, [Float](repeating: 0, count: cols), cols: cols), cols: cols)
    #expect(back == [Float](repeating: 0, count: cols))
  }

  @Test("activation quantization round trip: Q8_0 and Q8_1 within amax/127, Q8_1 sum consistent")
  func activations() {
    var rng = SplitMix64(seed: 0xAC7)
    for format in [ActivationFormat.q8_0, .q8_1] {
      for cols in KernelTestData.blockCols {
        let x = rng.floats(cols, in: -3...3)
        var bytes = [UInt8](repeating: 0, count: format.rowBytes(cols))
        var back = [Float](repeating: .nan, count: cols)
        x.withUnsafeBufferPointer { src in
          bytes.withUnsafeMutableBytes { quantizeActivations(format, src.baseAddress!, $0.baseAddress!, cols) }
        }
        bytes.withUnsafeBytes { src in
          back.withUnsafeMutableBufferPointer { dequantizeActivations(format, src.baseAddress!, $0.baseAddress!, cols) }
        }
        for b in 0..<(cols / 32) {
          let block = b * 32..<(b * 32 + 32)
          let amax = x[block].map(abs).max()!
          for i in block { #expect(abs(back[i] - x[i]) <= amax / 127, "\(format) cols \(cols) [\(i)]") }
          if format == .q8_1 {
            // The stored s is d * sum(q): within f16 rounding of the decoded block sum.
            let s = Float(Float16(bitPattern: UInt16(bytes[b * 36 + 2]) | UInt16(bytes[b * 36 + 3]) << 8))
            let sum = back[block].reduce(0, +)
            #expect(abs(s - sum) <= abs(sum) / 512 + amax / 127 / 512, "q8_1 block \(b): s \(s) vs \(sum)")
          }
        }
      }
    }
  }
}
