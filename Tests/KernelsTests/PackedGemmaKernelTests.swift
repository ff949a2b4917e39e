import GGUF
import Kernels
import KernelsC
import TestSupport
import Testing

/// The SIMD kernels for Gemma 3's weight types (packed Q5_0 × Q8_0, Q4_K × Q8_K, Q6_K × Q8_K) and
/// the SIMD Q8_K quantizer against their Swift twins, at every level this CPU runs.
@Suite("Packed Q4_0 / Q5_0 / IQ4_NL / Q4_K / Q5_K / Q6_K kernels and the Q8_K quantizer vs Swift twins")
struct PackedGemmaKernelTests {
  static let levels = SIMDKernelTests.levels
  static let types: [GGMLType] = [.q5_0, .q4_K, .q6_K, .q5_K, .q4_0, .iq4_nl]

  @Test("Q8_K activation quantization is byte-identical to the Swift twin")
  func quantizeQ8KMatches() {
    #expect(!Self.levels.isEmpty, "no SIMD level: every loop below would be empty")
    var rng = SplitMix64(seed: 0x8C)
    for level in Self.levels {
      for cols in [256, 768, 2304] {
        for trial in 0..<10 {
          var x = rng.floats(cols, in: -3...3)
          switch trial {
          case 1: for i in 0..<256 { x[i] = 0 }  // an all-zero super-block
          case 2: x[5] = 1e4  // a positive outlier: the scale turns negative
          case 3: x[cols - 1] = -7  // the extreme in the last element
          case 4:  // ties of magnitude with opposite signs: the first one sets the sign
            x[3] = 5
            x[200] = -5
          case 5: for i in 0..<cols { x[i] = Float(Int.random(in: -6...6, using: &rng)) * 0.5 }  // many .5 roundings
          case 6: for i in 0..<cols { x[i] *= 1e-30 }  // tiny values
          default: break
          }
          let bytes = ActivationFormat.q8_K.rowBytes(cols)
          var swift = [UInt8](repeating: 0, count: bytes)
          var simd = [UInt8](repeating: 0xEE, count: bytes)
          x.withUnsafeBufferPointer { xp in
            swift.withUnsafeMutableBytes { quantizeActivations(.q8_K, xp.baseAddress!, $0.baseAddress!, cols) }
            let done = simd.withUnsafeMutableBytes { pg_quantize_q8k_at(level, xp.baseAddress!, $0.baseAddress!, Int32(cols)) }
            #expect(done == 1)
          }
          #expect(swift == simd, "level \(level) cols \(cols) trial \(trial)")
        }
      }
    }
  }

  /// Runs the packed kernel over `weights` (rows × cols) and `act` (n rows), split into two group
  /// ranges as threads do; one spare output column per row catches writes past `rows`.
  static func packedGemm(
    _ type: GGMLType, level: Int32, weights: [UInt8], rows: Int, cols: Int, act: [UInt8], n: Int,
    numerics: Numerics = .exact
  ) -> [Float] {
    let code = Int32(type.rawValue)
    let kernelCode = code | (numerics == .fast ? Int32(PG_FAST_ORDER) : 0)
    let rowBytes = type.rowBytes(cols)!
    let actBytes = ActivationFormat(weights: type).rowBytes(cols)
    let size = pg_packed_size(code, Int32(rows), Int32(cols))
    var packed = [UInt8](repeating: 0xAB, count: size)
    weights.withUnsafeBytes { w in
      packed.withUnsafeMutableBytes {
        #expect(pg_pack(code, w.baseAddress!, rowBytes, Int32(rows), Int32(cols), $0.baseAddress!) == 1)
      }
    }
    var y = [Float](repeating: .nan, count: n * (rows + 1))
    packed.withUnsafeBytes { p in
      act.withUnsafeBytes { a in
        y.withUnsafeMutableBufferPointer { out in
          let groups = Int32((rows + 7) / 8)
          let mid = groups / 2
          for (lo, hi) in [(Int32(0), mid), (mid, groups)] where lo < hi {
            #expect(
              pg_gemm_packed_at(
                level, kernelCode, p.baseAddress!, Int32(rows), lo, hi, a.baseAddress!, actBytes, Int32(n),
                out.baseAddress!, rows + 1, Int32(cols)) == 1)
          }
        }
      }
    }
    return y
  }

  @Test("packed size: one group block per 8 rows and source block", arguments: types)
  func packedSize(_ type: GGMLType) {
    let code = Int32(type.rawValue)
    let groupBlock = [.q5_0: 176, .q4_K: 1184, .q5_K: 1440, .q6_K: 1680, .q4_0: 144, .iq4_nl: 144][type]!
    #expect(pg_packed_size(code, 13, Int32(2 * type.blockSize)) == 2 * 2 * groupBlock)
    #expect(pg_packed_size(code, 13, Int32(type.blockSize + 16)) == 0)  // not whole blocks
  }

  @Test("packed gemm matches vecDotReference in both orders; padding rows untouched", arguments: types, Numerics.allCases)
  func packedMatchesReference(_ type: GGMLType, _ numerics: Numerics) {
    var rng = SplitMix64(seed: 0x6E3A &+ UInt64(type.rawValue))
    let format = ActivationFormat(weights: type)
    let colsList = type.blockSize == 256 ? [256, 768, 2048] : [32, 96, 640]
    for level in Self.levels {
      for cols in colsList {
        let rowBytes = type.rowBytes(cols)!
        let actBytes = format.rowBytes(cols)
        for (rows, n) in [(1, 1), (8, 3), (13, 7), (37, 1), (9, 17), (3, 41)] {
          // Rows quantized from floats, and raw rows that use every code and scale byte.
          let weights = (0..<rows).flatMap { r in
            r % 3 == 2
              ? KernelTestData.rawRow(type, cols: cols, rng: &rng) : KernelTestData.row(type, cols: cols, rng: &rng)
          }
          var act = [UInt8]()
          for _ in 0..<n { act += VecDotTests.activations(for: type, rng.floats(cols, in: -2...2)) }
          let y = Self.packedGemm(
            type, level: level, weights: weights, rows: rows, cols: cols, act: act, n: n, numerics: numerics)
          for t in 0..<n {
            let at = Array(act[(t * actBytes)..<((t + 1) * actBytes)])
            #expect(y[t * (rows + 1) + rows].isNaN, "padding row written")
            for r in 0..<rows {
              let row = Array(weights[(r * rowBytes)..<((r + 1) * rowBytes)])
              let reference = row.withUnsafeBytes { rp in
                at.withUnsafeBytes { vecDotReference(type, rp.baseAddress!, $0.baseAddress!, cols) }
              }
              let got = y[t * (rows + 1) + r]
              #expect(
                abs(got - reference) <= VecDotTests.tolerance(type, row: row, act: at, cols: cols),
                "level \(level) \(type) \(rows)x\(cols) n \(n) [\(t), \(r)]: \(got) vs \(reference)")
            }
          }
        }
      }
    }
  }

  /// A row's result must not depend on how many activation rows share the call, in the fast order too
  /// (llama.cpp's order is checked bit for bit against its twin by LaneOrderKernelTests).
  @Test("packed fast-order gemm gives each activation row the same bits whatever the batch size", arguments: types)
  func fastOrderIsBatchInvariant(_ type: GGMLType) {
    var rng = SplitMix64(seed: 0xFA57 &+ UInt64(type.rawValue))
    let cols = type.blockSize == 256 ? 768 : 160
    let (rows, n) = (21, 17)
    let actBytes = ActivationFormat(weights: type).rowBytes(cols)
    let weights = (0..<rows).flatMap { _ in KernelTestData.row(type, cols: cols, rng: &rng) }
    var act = [UInt8]()
    for _ in 0..<n { act += VecDotTests.activations(for: type, rng.floats(cols, in: -2...2)) }
    for level in Self.levels {
      let together = Self.packedGemm(
        type, level: level, weights: weights, rows: rows, cols: cols, act: act, n: n, numerics: .fast)
      for t in 0..<n {
        let one = Array(act[(t * actBytes)..<((t + 1) * actBytes)])
        let alone = Self.packedGemm(
          type, level: level, weights: weights, rows: rows, cols: cols, act: one, n: 1, numerics: .fast)
        for r in 0..<rows {
          #expect(
            alone[r].bitPattern == together[t * (rows + 1) + r].bitPattern, "level \(level) \(type) [\(t), \(r)]")
        }
      }
    }
  }

  @Test("a corrupted weight code or scale changes the packed result beyond the tolerance", arguments: types)
  func corruptionIsCaught(_ type: GGMLType) {
    // Guards the test above against tolerances too loose to see a wrong bit of a code or scale.
    var rng = SplitMix64(seed: 0xC1 &+ UInt64(type.rawValue))
    let cols = type.blockSize == 256 ? 512 : 160
    for level in Self.levels {
      var caught = 0
      for _ in 0..<20 {
        let row = KernelTestData.row(type, cols: cols, rng: &rng)
        var corrupted = row
        // Any byte but the f16 super-block scales; flip its top bit or a low bit.
        let block = Int.random(in: 0..<(cols / type.blockSize), using: &rng)
        let (first, last) = [.q5_0: (2, 21), .q4_K: (4, 143), .q5_K: (4, 175), .q6_K: (0, 207), .q4_0: (2, 17), .iq4_nl: (2, 17)][type]!
        let bit: UInt8 = Bool.random(using: &rng) ? 0x80 : 0x01
        corrupted[block * type.typeSize + Int.random(in: first...last, using: &rng)] ^= bit
        if corrupted == row { continue }
        let act = VecDotTests.activations(for: type, rng.floats(cols, in: -2...2))
        let y = Self.packedGemm(type, level: level, weights: corrupted, rows: 1, cols: cols, act: act, n: 1)
        let reference = row.withUnsafeBytes { w in
          act.withUnsafeBytes { vecDotReference(type, w.baseAddress!, $0.baseAddress!, cols) }
        }
        if abs(y[0] - reference) > VecDotTests.tolerance(type, row: row, act: act, cols: cols) { caught += 1 }
      }
      #expect(caught >= 17, "level \(level) \(type): only \(caught) of 20 caught")
    }
  }

  @Test("matmul through the packed kernels equals matmulReference on a Gemma-shaped matrix", arguments: types)
  func matmulMatches(_ type: GGMLType) throws {
    var rng = SplitMix64(seed: 0xAB1 &+ UInt64(type.rawValue))
    let (rows, cols) = type.blockSize == 256 ? (43, 1024) : (67, 640)
    let n = 11
    let weights = (0..<rows).flatMap { _ in KernelTestData.row(type, cols: cols, rng: &rng) }
    let x = rng.floats(n * cols, in: -2...2)
    var fast = [Float](repeating: .nan, count: n * rows)
    var reference = [Float](repeating: .nan, count: n * rows)
    let pool = ThreadPool(threadCount: 2)
    try weights.withUnsafeBytes { w in
      let matrix = try WeightMatrix(type: type, rows: rows, cols: cols, data: w.baseAddress!)
      #expect(matrix.packing != nil)
      x.withUnsafeBufferPointer { xp in
        fast.withUnsafeMutableBufferPointer { matmul(matrix, xp.baseAddress!, $0.baseAddress!, n: n, pool: pool) }
        reference.withUnsafeMutableBufferPointer { matmulReference(matrix, xp.baseAddress!, $0.baseAddress!, n: n) }
      }
    }
    var magnitude: Float = 0
    for v in reference { magnitude = max(magnitude, abs(v)) }
    for i in 0..<(n * rows) {
      #expect(abs(fast[i] - reference[i]) <= 1e-4 * magnitude, "\(type) [\(i / rows), \(i % rows)]")
    }
  }
}
