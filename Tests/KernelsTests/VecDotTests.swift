import TestSupport
import GGUF
import Kernels
import Testing

/// The fast dot products and `matmul` against their reference twins on seeded random data with
/// odd shapes.
@Suite("vecDot and matmul vs reference")
struct VecDotTests {
  /// Quantized activations for `x`, as `matmul` makes them.
  static func activations(for type: GGMLType, _ x: [Float]) -> [UInt8] {
    let format = ActivationFormat(weights: type)
    var act = [UInt8](repeating: 0, count: format.rowBytes(x.count))
    x.withUnsafeBufferPointer { src in
      act.withUnsafeMutableBytes { quantizeActivations(format, src.baseAddress!, $0.baseAddress!, x.count) }
    }
    return act
  }

  /// How far the fast kernel may drift from the Double reference for one row.
  ///
  /// Float accumulation costs ~1e-4 of the sum of |products| at these lengths. Q4_1 also adds
  /// m·s per block with the activation block's stored f16 `s = d·Σq`, where the reference adds
  /// m·Σa over the decoded activations; those differ by f16 rounding (of d and of s), which is
  /// allowed for exactly: |m|·|s − Σa|. Q5_1 does the same. The K-quants' minimums use Q8_K's
  /// integer sums, which are exact, so they need nothing extra.
  static func tolerance(_ type: GGMLType, row: [UInt8], act: [UInt8], cols: Int) -> Float {
    let w = KernelTestData.dequantized(type, row, cols: cols)
    var a = [Float](repeating: 0, count: cols)
    act.withUnsafeBytes { src in
      a.withUnsafeMutableBufferPointer {
        dequantizeActivations(ActivationFormat(weights: type), src.baseAddress!, $0.baseAddress!, cols)
      }
    }
    var magnitude: Float = 0
    for i in 0..<cols { magnitude += abs(w[i] * a[i]) }
    // K-quant kernels sum integers exactly within a 256-element super-block and round in float once
    // per super-block (measured worst: 3e-8 of the magnitude), so they get a 100× tighter bound,
    // which keeps a corrupted code in a small-scale sub-block visible.
    let relative: Float = type.blockSize == 256 ? 1e-6 : 1e-4
    var tolerance = relative * magnitude + 1e-6
    if type == .q4_1 || type == .q5_1 {
      func half(_ bytes: [UInt8], _ at: Int) -> Float {
        Float(Float16(bitPattern: UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8))
      }
      for b in 0..<(cols / 32) {
        let blockSum = a[(b * 32)..<(b * 32 + 32)].reduce(0, +)
        tolerance += abs(half(row, b * type.typeSize + 2)) * abs(half(act, b * 36 + 2) - blockSum)
      }
    }
    return tolerance
  }

  @Test("vecDot matches vecDotReference", arguments: KernelTestData.types)
  func vecDotMatchesReference(_ type: GGMLType) {
    var rng = SplitMix64(seed: 0xD07 &+ UInt64(type.rawValue))
    for cols in KernelTestData.cols(for: type) {
      for trial in 0..<20 {
        let row =
          trial % 4 == 3
          ? KernelTestData.rawRow(type, cols: cols, rng: &rng) : KernelTestData.row(type, cols: cols, rng: &rng)
        let act = Self.activations(for: type, rng.floats(cols, in: -2...2))
        let (fast, reference) = row.withUnsafeBytes { r in
          act.withUnsafeBytes { a in
            (
              vecDot(type, r.baseAddress!, a.baseAddress!, cols),
              vecDotReference(type, r.baseAddress!, a.baseAddress!, cols)
            )
          }
        }
        let tolerance = Self.tolerance(type, row: row, act: act, cols: cols)
        #expect(abs(fast - reference) <= tolerance, "\(type) cols \(cols) trial \(trial): \(fast) vs \(reference)")
      }
    }
  }

  @Test("vecDot of integer-valued data is exact")
  func exactIntegers() {
    // Small integers survive every encoding, so any indexing or nibble mistake shows up exactly.
    let cols = 96
    let w = (0..<cols).map { Float($0 % 15 - 7) }
    let x = (0..<cols).map { Float(($0 * 7) % 11 - 5) }
    var expected: Float = 0
    for i in 0..<cols { expected += w[i] * x[i] }
    for type: GGMLType in [.f32, .f16, .bf16] {
      let row = quantizeMatrix(type, w, cols: cols)
      let act = Self.activations(for: type, x)
      let got = row.withUnsafeBytes { r in act.withUnsafeBytes { vecDot(type, r.baseAddress!, $0.baseAddress!, cols) } }
      #expect(got == expected, "\(type)")
    }
  }

  static let matmulCases: [(GGMLType, Int)] = KernelTestData.types.flatMap { t in
    KernelTestData.cols(for: t).map { (t, $0) }
  }

  @Test("matmul equals per-element vecDot and matches matmulReference", arguments: matmulCases)
  func matmulMatchesReference(_ type: GGMLType, _ cols: Int) throws {
    let pool = ThreadPool(threadCount: 2)
    let serial = ThreadPool(threadCount: 1)
    var rng = SplitMix64(seed: 0x3A7 &+ UInt64(type.rawValue) << 16 &+ UInt64(cols))
    for rows in [1, 5, 37] {
      let weights = (0..<rows).flatMap { _ in KernelTestData.row(type, cols: cols, rng: &rng) }
      let rowBytes = type.rowBytes(cols)!
      for n in [1, 3, 17] {
        let x = rng.floats(n * cols, in: -2...2)
        var fast = [Float](repeating: .nan, count: n * rows)
        var reference = [Float](repeating: .nan, count: n * rows)
        var single = [Float](repeating: .nan, count: n * rows)
        try weights.withUnsafeBytes { wp in
          let w = try WeightMatrix(type: type, rows: rows, cols: cols, data: wp.baseAddress!)
          x.withUnsafeBufferPointer { xp in
            fast.withUnsafeMutableBufferPointer { matmul(w, xp.baseAddress!, $0.baseAddress!, n: n, pool: pool) }
            single.withUnsafeMutableBufferPointer { matmul(w, xp.baseAddress!, $0.baseAddress!, n: n, pool: serial) }
            reference.withUnsafeMutableBufferPointer { matmulReference(w, xp.baseAddress!, $0.baseAddress!, n: n) }
          }
        }
        for t in 0..<n {
          let act = Self.activations(for: type, Array(x[(t * cols)..<((t + 1) * cols)]))
          for r in 0..<rows {
            let row = Array(weights[(r * rowBytes)..<((r + 1) * rowBytes)])
            let y = fast[t * rows + r]
            // Same quantized activations, same kernel: how rows are split over threads and tiles
            // must not change a single bit.
            #expect(y.bitPattern == single[t * rows + r].bitPattern, "\(type) \(rows)x\(cols) n \(n) [\(t), \(r)]")
            let tolerance = Self.tolerance(type, row: row, act: act, cols: cols)
            #expect(
              abs(y - reference[t * rows + r]) <= tolerance,
              "\(type) \(rows)x\(cols) n \(n) [\(t), \(r)]: \(y) vs \(reference[t * rows + r])")
          }
        }
      }
    }
  }

  @Test("WeightMatrix refuses unsupported types and ragged rows")
  func weightMatrixErrors() {
    let bytes = [UInt8](repeating: 0, count: 1024)
    bytes.withUnsafeBytes { p in
      // Q8_K is an activation format only.
      #expect(throws: KernelError.unsupportedType(.q8_K, operation: "matrix multiply")) {
        try WeightMatrix(type: .q8_K, rows: 1, cols: 256, data: p.baseAddress!)
      }
      #expect(throws: KernelError.badRowLength(.q8_0, 40)) {
        try WeightMatrix(type: .q8_0, rows: 1, cols: 40, data: p.baseAddress!)
      }
    }
  }
}

/// The comparisons above are only worth something if their tolerances are tight: one wrong code
/// in one block must show up as a failure.
@Suite("vecDot tolerance self-check")
struct VecDotToleranceTests {
  @Test("a single corrupted element exceeds the tolerance", arguments: KernelTestData.types)
  func singleCorruptionIsCaught(_ type: GGMLType) {
    var rng = SplitMix64(seed: 0xBAD &+ UInt64(type.rawValue))
    let cols = type.blockSize == 256 ? 256 : 160
    var caught = 0
    for _ in 0..<20 {
      let row = KernelTestData.row(type, cols: cols, rng: &rng)
      let act = VecDotTests.activations(for: type, rng.floats(cols, in: -2...2))
      var corrupted = row
      // Flip the top bit of a code byte (a nibble moves by 8, an int8 by 128) or, for float
      // types, the sign of one element.
      let block = Int.random(in: 0..<(cols / type.blockSize), using: &rng)
      // Q5 fifth-bit words and K-quant scales are codes too: a flipped bit there must be seen.
      let header: Int = [.q4_0: 2, .q4_1: 4, .q8_0: 2, .q5_0: 2, .q5_1: 4, .iq4_nl: 2][type] ?? 0
      let byte =
        type.blockSize == 1
        ? block * type.typeSize + type.typeSize - 1
        : block * type.typeSize + header + Int.random(in: 0..<(type.typeSize - header), using: &rng)
      corrupted[byte] ^= 0x80
      let (fast, reference) = row.withUnsafeBytes { r in
        corrupted.withUnsafeBytes { c in
          act.withUnsafeBytes { a in
            (vecDot(type, r.baseAddress!, a.baseAddress!, cols), vecDotReference(type, c.baseAddress!, a.baseAddress!, cols))
          }
        }
      }
      if abs(fast - reference) > VecDotTests.tolerance(type, row: row, act: act, cols: cols) { caught += 1 }
    }
    // A corruption can meet a near-zero activation or weight; nearly all must be seen.
    #expect(caught >= 18, "\(type): only \(caught) of 20 corruptions caught")
  }
}

/// `matmulShared` must equal separate `matmul` calls bit for bit: same quantization, same kernels.
@Suite("matmulShared vs separate matmuls")
struct MatmulSharedTests {
  @Test("three matrices sharing one input", arguments: [GGMLType.q4_1, .q8_0, .q4_0, .f32])
  func sharedEqualsSeparate(_ type: GGMLType) throws {
    let pool = ThreadPool(threadCount: 2)
    var rng = SplitMix64(seed: 0x5A7ED &+ UInt64(type.rawValue))
    let cols = 96
    let shapes = [13, 5, 40]
    let mats = shapes.map { rows in (0..<rows).flatMap { _ in KernelTestData.row(type, cols: cols, rng: &rng) } }
    for n in [1, 6] {
      let x = rng.floats(n * cols, in: -2...2)
      var separate = shapes.map { [Float](repeating: .nan, count: n * $0) }
      var shared = shapes.map { [Float](repeating: .nan, count: n * $0) }
      try mats[0].withUnsafeBytes { m0 in
        try mats[1].withUnsafeBytes { m1 in
          try mats[2].withUnsafeBytes { m2 in
            let w = [
              try WeightMatrix(type: type, rows: shapes[0], cols: cols, data: m0.baseAddress!),
              try WeightMatrix(type: type, rows: shapes[1], cols: cols, data: m1.baseAddress!),
              try WeightMatrix(type: type, rows: shapes[2], cols: cols, data: m2.baseAddress!),
            ]
            x.withUnsafeBufferPointer { xp in
              for i in 0..<3 {
                separate[i].withUnsafeMutableBufferPointer { matmul(w[i], xp.baseAddress!, $0.baseAddress!, n: n, pool: pool) }
              }
              var s0 = shared[0]
              var s1 = shared[1]
              var s2 = shared[2]
              s0.withUnsafeMutableBufferPointer { y0 in
                s1.withUnsafeMutableBufferPointer { y1 in
                  s2.withUnsafeMutableBufferPointer { y2 in
                    matmulShared(
                      w[0], y0.baseAddress!, w[1], y1.baseAddress!, w[2], y2.baseAddress!, x: xp.baseAddress!, n: n,
                      pool: pool)
                  }
                }
              }
              shared = [s0, s1, s2]
            }
          }
        }
      }
      for i in 0..<3 {
        #expect(shared[i].map(\.bitPattern) == separate[i].map(\.bitPattern), "\(type) matrix \(i) n \(n)")
      }
    }
  }
}
