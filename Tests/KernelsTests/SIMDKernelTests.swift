import GGUF
import Kernels
import KernelsC
import TestSupport
import Testing

/// Every SIMD level this CPU runs (AVX2, AVX-512 VNNI) against the Swift twins, on seeded random
/// data with odd shapes: rows and activation rows that fill no register tile evenly.
@Suite("SIMD kernels vs Swift twins")
struct SIMDKernelTests {
  static let levels: [Int32] = pg_isa_supported() >= 1 ? Array(1...pg_isa_supported()) : []

  @Test("the CPU has a SIMD level (this machine kind should)")
  func hasSIMD() {
    #expect(pg_isa_supported() >= 1)
    #expect(pg_isa() <= pg_isa_supported())
  }

  @Test("Q8_0/Q8_1 activation quantization is byte-identical to the Swift twin")
  func quantizeMatches() {
    var rng = SplitMix64(seed: 0x9A)
    for level in Self.levels {
      for format in [ActivationFormat.q8_0, .q8_1] {
        for cols in [32, 96, 544, 1504] {
          for trial in 0..<8 {
            var x = rng.floats(cols, in: -3...3)
            if trial == 1 { for i in 0..<32 { x[i] = 0 } }  // an all-zero block
            if trial == 2 { x[5] = 1e4 }  // one outlier dominating its block
            var swift = [UInt8](repeating: 0, count: format.rowBytes(cols))
            var simd = [UInt8](repeating: 0xEE, count: format.rowBytes(cols))
            x.withUnsafeBufferPointer { xp in
              swift.withUnsafeMutableBytes { quantizeActivations(format, xp.baseAddress!, $0.baseAddress!, cols) }
              let done = simd.withUnsafeMutableBytes {
                pg_quantize_q8_at(level, xp.baseAddress!, $0.baseAddress!, Int32(cols), format == .q8_1 ? 1 : 0)
              }
              #expect(done == 1)
            }
            #expect(swift == simd, "level \(level) \(format) cols \(cols) trial \(trial)")
          }
        }
      }
    }
  }

  static let gemmTypes: [GGMLType] = [.q4_0, .q4_1, .q8_0, .f32, .f16]

  @Test("pg_gemm matches vecDotReference for every level, tile remainder and row split", arguments: gemmTypes)
  func gemmMatchesReference(_ type: GGMLType) {
    var rng = SplitMix64(seed: 0x6E77 &+ UInt64(type.rawValue))
    let format = ActivationFormat(weights: type)
    let colsList = type.blockSize == 1 ? [7, 33, 100, 544] : [32, 96, 544]
    for level in Self.levels {
      for cols in colsList {
        let rowBytes = type.rowBytes(cols)!
        let actBytes = format.rowBytes(cols)
        for (rows, n) in [(1, 1), (7, 1), (13, 5), (37, 3), (9, 17)] {
          // Mix quantized-from-floats rows with raw rows that use every code (including Q8_0's -128).
          let weights = (0..<rows).flatMap { r in
            r % 3 == 2
              ? KernelTestData.rawRow(type, cols: cols, rng: &rng) : KernelTestData.row(type, cols: cols, rng: &rng)
          }
          var act = [UInt8]()
          for _ in 0..<n { act += VecDotTests.activations(for: type, rng.floats(cols, in: -2...2)) }
          var whole = [Float](repeating: .nan, count: n * rows)
          var split = [Float](repeating: .nan, count: n * rows)
          weights.withUnsafeBytes { w in
            act.withUnsafeBytes { a in
              let code = Int32(type.rawValue)
              let done = whole.withUnsafeMutableBufferPointer {
                pg_gemm_at(
                  level, code, w.baseAddress!, rowBytes, 0, Int32(rows), a.baseAddress!, actBytes, Int32(n),
                  $0.baseAddress!, rows, Int32(cols))
              }
              #expect(done == 1)
              // Split the rows at odd points: every output must be bit-identical.
              split.withUnsafeMutableBufferPointer { y in
                var lo = 0
                while lo < rows {
                  let hi = min(rows, lo + 3)
                  _ = pg_gemm_at(
                    level, code, w.baseAddress!, rowBytes, Int32(lo), Int32(hi), a.baseAddress!, actBytes, Int32(n),
                    y.baseAddress!, rows, Int32(cols))
                  lo = hi
                }
              }
            }
          }
          for t in 0..<n {
            let at = Array(act[(t * actBytes)..<((t + 1) * actBytes)])
            for r in 0..<rows {
              let row = Array(weights[(r * rowBytes)..<((r + 1) * rowBytes)])
              let reference = row.withUnsafeBytes { rp in
                at.withUnsafeBytes { vecDotReference(type, rp.baseAddress!, $0.baseAddress!, cols) }
              }
              let y = whole[t * rows + r]
              let tolerance = VecDotTests.tolerance(type, row: row, act: at, cols: cols)
              #expect(
                abs(y - reference) <= tolerance,
                "level \(level) \(type) \(rows)x\(cols) n \(n) [\(t), \(r)]: \(y) vs \(reference)")
              #expect(y.bitPattern == split[t * rows + r].bitPattern, "level \(level) \(type) split [\(t), \(r)]")
            }
          }
        }
      }
    }
  }

  @Test("a corrupted weight code changes the SIMD result beyond the tolerance")
  func corruptionIsCaught() {
    // Guards the test above against tolerances too loose to see a wrong nibble or byte.
    var rng = SplitMix64(seed: 0xC0)
    for level in Self.levels {
      for type: GGMLType in [.q4_0, .q4_1, .q8_0] {
        let cols = 160
        let format = ActivationFormat(weights: type)
        var caught = 0
        for _ in 0..<20 {
          let row = KernelTestData.row(type, cols: cols, rng: &rng)
          var corrupted = row
          let header = type == .q4_1 ? 4 : 2
          let block = Int.random(in: 0..<(cols / 32), using: &rng)
          corrupted[block * type.typeSize + header + Int.random(in: 0..<(type.typeSize - header), using: &rng)] ^= 0x80
          let act = VecDotTests.activations(for: type, rng.floats(cols, in: -2...2))
          var y: Float = 0
          corrupted.withUnsafeBytes { w in
            act.withUnsafeBytes { a in
              _ = pg_gemm_at(
                level, Int32(type.rawValue), w.baseAddress!, row.count, 0, 1, a.baseAddress!, format.rowBytes(cols), 1,
                &y, 1, Int32(cols))
            }
          }
          let reference = row.withUnsafeBytes { w in
            act.withUnsafeBytes { vecDotReference(type, w.baseAddress!, $0.baseAddress!, cols) }
          }
          if abs(y - reference) > VecDotTests.tolerance(type, row: row, act: act, cols: cols) { caught += 1 }
        }
        #expect(caught >= 18, "level \(level) \(type): only \(caught) of 20 caught")
      }
    }
  }

  @Test(
    "packed (8-row interleaved) gemm matches vecDotReference in both orders, padding rows untouched",
    arguments: [GGMLType.q4_1, .q8_0], Numerics.allCases)
  func packedMatchesReference(_ type: GGMLType, _ numerics: Numerics) {
    var rng = SplitMix64(seed: 0x9ACC &+ UInt64(type.rawValue))
    let format = ActivationFormat(weights: type)
    let code = Int32(type.rawValue) | (numerics == .fast ? Int32(PG_FAST_ORDER) : 0)
    for level in Self.levels {
      for cols in [32, 96, 544] {
        let rowBytes = type.rowBytes(cols)!
        let actBytes = format.rowBytes(cols)
        for (rows, n) in [(1, 1), (8, 1), (13, 5), (37, 3), (17, 9)] {
          let weights = (0..<rows).flatMap { r in
            r % 3 == 2
              ? KernelTestData.rawRow(type, cols: cols, rng: &rng) : KernelTestData.row(type, cols: cols, rng: &rng)
          }
          var act = [UInt8]()
          for _ in 0..<n { act += VecDotTests.activations(for: type, rng.floats(cols, in: -2...2)) }
          let size = pg_packed_size(Int32(type.rawValue), Int32(rows), Int32(cols))
          #expect(size == (rows + 7) / 8 * 8 * rowBytes)
          var packed = [UInt8](repeating: 0xAB, count: size)
          // One spare output column per row: the kernel must not write past `rows`.
          var y = [Float](repeating: .nan, count: n * (rows + 1))
          weights.withUnsafeBytes { w in
            packed.withUnsafeMutableBytes {
              #expect(
                pg_pack(Int32(type.rawValue), w.baseAddress!, rowBytes, Int32(rows), Int32(cols), $0.baseAddress!) == 1)
            }
          }
          packed.withUnsafeBytes { p in
            act.withUnsafeBytes { a in
              y.withUnsafeMutableBufferPointer { out in
                // Two calls over a split group range, as threads do.
                let groups = Int32((rows + 7) / 8)
                let mid = groups / 2
                for (lo, hi) in [(Int32(0), mid), (mid, groups)] where lo < hi {
                  #expect(
                    pg_gemm_packed_at(
                      level, code, p.baseAddress!, Int32(rows), lo, hi, a.baseAddress!, actBytes, Int32(n),
                      out.baseAddress!, rows + 1, Int32(cols)) == 1)
                }
              }
            }
          }
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

  /// A row's result must not depend on how many activation rows share the call (the engine batches
  /// sequences freely and promises the same output as a lone run), in either summation order.
  @Test("packed Q4_1 gemm gives each activation row the same bits whatever the batch size", arguments: Numerics.allCases)
  func packedIsBatchInvariant(_ numerics: Numerics) {
    var rng = SplitMix64(seed: 0xBA7C)
    let type = GGMLType.q4_1
    let code = Int32(type.rawValue) | (numerics == .fast ? Int32(PG_FAST_ORDER) : 0)
    let (rows, cols, n) = (21, 288, 17)
    let rowBytes = type.rowBytes(cols)!
    let actBytes = ActivationFormat(weights: type).rowBytes(cols)
    let weights = (0..<rows).flatMap { _ in KernelTestData.row(type, cols: cols, rng: &rng) }
    var act = [UInt8]()
    for _ in 0..<n { act += VecDotTests.activations(for: type, rng.floats(cols, in: -2...2)) }
    var packed = [UInt8](repeating: 0, count: pg_packed_size(Int32(type.rawValue), Int32(rows), Int32(cols)))
    weights.withUnsafeBytes { w in
      packed.withUnsafeMutableBytes {
        _ = pg_pack(Int32(type.rawValue), w.baseAddress!, rowBytes, Int32(rows), Int32(cols), $0.baseAddress!)
      }
    }
    for level in Self.levels {
      var together = [Float](repeating: 0, count: n * rows)
      var alone = [Float](repeating: 0, count: n * rows)
      packed.withUnsafeBytes { p in
        act.withUnsafeBytes { a in
          let groups = Int32((rows + 7) / 8)
          _ = pg_gemm_packed_at(
            level, code, p.baseAddress!, Int32(rows), 0, groups, a.baseAddress!, actBytes, Int32(n), &together, rows,
            Int32(cols))
          for t in 0..<n {
            alone.withUnsafeMutableBufferPointer { out in
              _ = pg_gemm_packed_at(
                level, code, p.baseAddress!, Int32(rows), 0, groups, a.baseAddress! + t * actBytes, actBytes, 1,
                out.baseAddress! + t * rows, rows, Int32(cols))
            }
          }
        }
      }
      #expect(together == alone, "level \(level) \(numerics)")
      #expect(together.contains { $0 != 0 })
    }
  }
}
