import TestSupport
import GGUF
import Kernels
import Testing

/// Q5_0/Q5_1 and the K-quants decoded from hand-built blocks, and the Q8_K activation format.
@Suite("Q5 and K-quant blocks")
struct BlockTypeTests {
  /// One block whose byte k is (37k + 11) mod 256, i.e. every code, scale and bit pattern mixed,
  /// with its f16 scales overwritten by round values: d = 0.5, and dmin = 0.25 or m = -1.
  static func handBuilt(_ type: GGMLType) -> [UInt8] {
    var bytes = (0..<type.typeSize).map { UInt8(($0 * 37 + 11) & 0xFF) }
    let halves: [(Int, UInt16)]
    switch type {
    case .q5_0: halves = [(0, 0x3800)]
    case .q5_1: halves = [(0, 0x3800), (2, 0xBC00)]
    case .q2_K: halves = [(80, 0x3800), (82, 0x3400)]
    case .q3_K: halves = [(108, 0x3800)]
    case .q4_K, .q5_K: halves = [(0, 0x3800), (2, 0x3400)]
    default: halves = [(208, 0x3800)]  // Q6_K
    }
    for (at, bits) in halves {
      bytes[at] = UInt8(bits & 0xFF)
      bytes[at + 1] = UInt8(bits >> 8)
    }
    return bytes
  }

  /// Expected decodings of `handBuilt`, computed by gguf-py's NumPy dequantizer (gguf 0.x,
  /// `gguf.quants.dequantize`), an implementation independent of this one: the sum, the sum
  /// weighted by position (1-based, so a permutation shows), and the first and last four values.
  static let expected: [(GGMLType, Double, Double, [Float], [Float])] = [
    (.q5_0, 7.5, 56.0, [4.5, -1.0, 1.5, -4.0], [-3.0, -2.0, 7.0, 0.5]),
    (.q5_1, 220.5, 3422.5, [8.5, 11.0, 13.5, 8.0], [6.0, -0.5, 0.5, 1.5]),
    (.q2_K, 1029.5, 121565.0, [16.5, 0.0, 5.5, 11.0], [-0.75, -0.75, 2.25, 2.25]),
    (.q3_K, 479.0, 88572.5, [40.5, -54.0, 13.5, -27.0], [-21.0, -21.0, -14.0, 21.0]),
    (.q4_K, 27220.0, 3786420.0, [157.75, -12.75, 64.75, 142.25], [3.25, 9.25, 18.25, 24.25]),
    (.q5_K, 58108.0, 8013724.0, [405.75, -12.75, 312.75, 142.25], [33.25, 39.25, 48.25, 54.25]),
    (.q6_K, 2306.0, 392210.0, [-715.5, 848.0, 291.5, -265.0], [85.0, 75.0, -20.0, -30.0]),
  ]

  @Test("dequantizeRow decodes hand-built blocks as gguf-py does", arguments: expected.indices)
  func handBuiltBlocks(_ index: Int) {
    let (type, sum, weighted, head, tail) = Self.expected[index]
    let x = KernelTestData.dequantized(type, Self.handBuilt(type), cols: type.blockSize)
    // Every value is a small multiple of 1/4, so these sums are exact in Double.
    #expect(x.reduce(0.0) { $0 + Double($1) } == sum, "\(type)")
    #expect(x.enumerated().reduce(0.0) { $0 + Double($1.offset + 1) * Double($1.element) } == weighted, "\(type)")
    #expect(Array(x.prefix(4)) == head, "\(type)")
    #expect(Array(x.suffix(4)) == tail, "\(type)")
  }

  @Test("quantize → dequantize → quantize is stable for K-quants and Q5", arguments: KernelTestData.newBlockTypes)
  func requantizeIsStable(_ type: GGMLType) {
    // Decoded values sit exactly on the grid of some encoding; re-encoding them must not move
    // them by more than the round-trip bound allows (checked elementwise in QuantizationTests),
    // and the second decode must be at least as close to the first as the first to the input.
    var rng = SplitMix64(seed: 0x5EED &+ UInt64(type.rawValue))
    let cols = 3 * max(32, type.blockSize)
    let x = rng.floats(cols, in: -1...1)
    let once = KernelTestData.dequantized(type, quantizeMatrix(type, x, cols: cols), cols: cols)
    let twice = KernelTestData.dequantized(type, quantizeMatrix(type, once, cols: cols), cols: cols)
    func rms(_ a: [Float], _ b: [Float]) -> Double {
      (zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) } / Double(a.count)).squareRoot()
    }
    let first = rms(once, x)
    #expect(first > 0)
    #expect(rms(twice, once) <= first, "\(type): \(rms(twice, once)) vs \(first)")
  }

  @Test("Q8_K activations: within amax/127 per super-block, bsums are the code sums")
  func q8K() {
    var rng = SplitMix64(seed: 0x08C)
    for cols in [256, 768] {
      for scale: Float in [3, 1e-3] {
        var x = rng.floats(cols, in: -scale...scale)
        x[5] = 2 * scale  // a positive extreme: the stored scale turns negative
        var bytes = [UInt8](repeating: 0, count: ActivationFormat.q8_K.rowBytes(cols))
        var back = [Float](repeating: .nan, count: cols)
        x.withUnsafeBufferPointer { src in
          bytes.withUnsafeMutableBytes { quantizeActivations(.q8_K, src.baseAddress!, $0.baseAddress!, cols) }
        }
        bytes.withUnsafeBytes { src in
          back.withUnsafeMutableBufferPointer { dequantizeActivations(.q8_K, src.baseAddress!, $0.baseAddress!, cols) }
        }
        for b in 0..<(cols / 256) {
          let amax = x[(b * 256)..<(b * 256 + 256)].map(abs).max()!
          for i in (b * 256)..<(b * 256 + 256) {
            #expect(abs(back[i] - x[i]) <= amax / 254 * 1.0001, "cols \(cols) [\(i)]")
          }
          for g in 0..<16 {
            let codes = (0..<16).map { Int(Int8(bitPattern: bytes[b * 292 + 4 + 16 * g + $0])) }
            let stored = Int(Int16(bitPattern: UInt16(bytes[b * 292 + 260 + 2 * g]) | UInt16(bytes[b * 292 + 261 + 2 * g]) << 8))
            #expect(stored == codes.reduce(0, +), "cols \(cols) block \(b) group \(g)")
          }
        }
      }
    }
  }
}
