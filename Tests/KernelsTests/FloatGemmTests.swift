import GGUF
import Kernels
import KernelsC
import Testing
import TestSupport

/// The F32/F16 matrix product (`pg_gemm` for float weights): bit-identical to its Swift twin
/// `floatDotInKernelOrder` at every SIMD level, and batch-invariant — a row's outputs do not depend
/// on how many activation rows share the call, which greedy speculative verification relies on.
@Suite("Float GEMM (F32/F16) vs its Swift twin")
struct FloatGemmTests {
  static let types: [GGMLType] = [.f16, .f32]

  /// `rows` random weight rows of `type` (F16 values rounded from floats).
  static func weights(_ type: GGMLType, rows: Int, cols: Int, rng: inout SplitMix64) -> [UInt8] {
    let values = rng.floats(rows * cols, in: -1...1)
    return quantizeMatrix(type, values, cols: cols)
  }

  static func gemm(
    level: Int32, _ type: GGMLType, _ w: UnsafeRawBufferPointer, rows: Int, cols: Int, _ x: UnsafePointer<Float>, n: Int,
    _ y: UnsafeMutablePointer<Float>
  ) -> Int32 {
    pg_gemm_at(
      level, Int32(type.rawValue), w.baseAddress!, type.rowBytes(cols)!, 0, Int32(rows), x, 4 * cols, Int32(n), y, rows,
      Int32(cols))
  }

  @Test("every output equals the twin bit for bit, alone or in a batch of 3, 7 or 17 rows", arguments: types)
  func matchesTwinAndIsBatchInvariant(_ type: GGMLType) {
    var rng = SplitMix64(seed: 0xF16 &+ UInt64(type.rawValue))
    #expect(!SIMDKernelTests.levels.isEmpty, "no SIMD level: every loop below would be empty")
    for level in SIMDKernelTests.levels {
      for cols in [1, 7, 33, 100, 577] {
        let rowBytes = type.rowBytes(cols)!
        for rows in [1, 13, 37] {
          let weights = Self.weights(type, rows: rows, cols: cols, rng: &rng)
          for n in [1, 3, 7, 17] {
            let x = rng.floats(n * cols, in: -2...2)  // [n, cols]
            var batch = [Float](repeating: .nan, count: n * rows)  // [n, rows]
            var alone = [Float](repeating: .nan, count: n * rows)
            weights.withUnsafeBytes { w in
              x.withUnsafeBufferPointer { xp in
                let done = batch.withUnsafeMutableBufferPointer {
                  Self.gemm(level: level, type, w, rows: rows, cols: cols, xp.baseAddress!, n: n, $0.baseAddress!)
                }
                #expect(done == 1)
                alone.withUnsafeMutableBufferPointer { y in
                  for t in 0..<n {
                    _ = Self.gemm(
                      level: level, type, w, rows: rows, cols: cols, xp.baseAddress! + t * cols, n: 1,
                      y.baseAddress! + t * rows)
                  }
                }
                for t in 0..<n {
                  for r in 0..<rows {
                    let twin = floatDotInKernelOrder(type, w.baseAddress! + r * rowBytes, xp.baseAddress! + t * cols, cols)
                    let exact = vecDotGeneric(type, w.baseAddress! + r * rowBytes, xp.baseAddress! + t * cols, cols)
                    let got = batch[t * rows + r]
                    let place = "level \(level) \(type) \(rows)x\(cols) n \(n) [\(t), \(r)]"
                    #expect(got.bitPattern == twin.bitPattern, "\(place): \(got) vs twin \(twin)")
                    #expect(got.bitPattern == alone[t * rows + r].bitPattern, "\(place): batch vs alone")
                    #expect(abs(got - exact) <= 1e-5 * Float(cols), "\(place): \(got) vs \(exact)")
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  @Test("packed F16 (4-row quads) equals the twin bit for bit, whole or split into group ranges")
  func packedMatchesTwin() {
    var rng = SplitMix64(seed: 0x9AC4)
    let code = Int32(GGMLType.f16.rawValue)
    #expect(pg_packed_size(code, 13, 100) == 0, "a row length that is not a multiple of 8 has no packed form")
    for level in SIMDKernelTests.levels {
      for cols in [8, 96, 584] {
        for rows in [1, 13, 37] {
          let weights = Self.weights(.f16, rows: rows, cols: cols, rng: &rng)
          var packed = [UInt8](repeating: 0xFF, count: pg_packed_size(code, Int32(rows), Int32(cols)))
          let packOK = weights.withUnsafeBytes { w in
            packed.withUnsafeMutableBytes { pg_pack(code, w.baseAddress!, 2 * cols, Int32(rows), Int32(cols), $0.baseAddress!) }
          }
          #expect(packOK == 1)
          let groups = (rows + 7) / 8
          for n in [1, 3, 7, 17] {
            let x = rng.floats(n * cols, in: -2...2)  // [n, cols]
            var whole = [Float](repeating: .nan, count: n * rows)  // [n, rows]
            var split = [Float](repeating: .nan, count: n * rows)
            packed.withUnsafeBytes { p in
              x.withUnsafeBufferPointer { xp in
                let done = whole.withUnsafeMutableBufferPointer {
                  pg_gemm_packed_at(
                    level, code, p.baseAddress!, Int32(rows), 0, Int32(groups), xp.baseAddress!, 4 * cols, Int32(n),
                    $0.baseAddress!, rows, Int32(cols))
                }
                #expect(done == 1)
                split.withUnsafeMutableBufferPointer { y in
                  for g in 0..<groups {
                    _ = pg_gemm_packed_at(
                      level, code, p.baseAddress!, Int32(rows), Int32(g), Int32(g + 1), xp.baseAddress!, 4 * cols,
                      Int32(n), y.baseAddress!, rows, Int32(cols))
                  }
                }
              }
            }
            weights.withUnsafeBytes { w in
              x.withUnsafeBufferPointer { xp in
                for t in 0..<n {
                  for r in 0..<rows {
                    let twin = floatDotInKernelOrder(.f16, w.baseAddress! + r * 2 * cols, xp.baseAddress! + t * cols, cols)
                    let place = "level \(level) \(rows)x\(cols) n \(n) [\(t), \(r)]"
                    #expect(whole[t * rows + r].bitPattern == twin.bitPattern, "\(place): \(whole[t * rows + r]) vs \(twin)")
                    #expect(split[t * rows + r].bitPattern == twin.bitPattern, "\(place): split")
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  @Test(
    "matmul on a pool: a batch's rows equal one-row calls and the reference twin (packed and plain layouts)",
    arguments: [(GGMLType.f16, 325), (.f16, 328), (.f32, 325)])
  func matmulIsBatchInvariant(_ type: GGMLType, _ cols: Int) throws {
    var rng = SplitMix64(seed: 0xBA7C &+ UInt64(type.rawValue))
    let pool = ThreadPool(threadCount: 2)
    let rows = 203
    let weights = Self.weights(type, rows: rows, cols: cols, rng: &rng)
    try weights.withUnsafeBytes { wp in
      let w = try WeightMatrix(type: type, rows: rows, cols: cols, data: wp.baseAddress!)
      for n in [1, 3, 7, 17] {
        let x = rng.floats(n * cols, in: -2...2)  // [n, cols]
        var batch = [Float](repeating: .nan, count: n * rows)  // [n, rows]
        var alone = [Float](repeating: .nan, count: n * rows)
        var twin = [Float](repeating: .nan, count: n * rows)
        x.withUnsafeBufferPointer { xp in
          batch.withUnsafeMutableBufferPointer { matmul(w, xp.baseAddress!, $0.baseAddress!, n: n, pool: pool) }
          alone.withUnsafeMutableBufferPointer { y in
            for t in 0..<n { matmul(w, xp.baseAddress! + t * cols, y.baseAddress! + t * rows, n: 1, pool: pool) }
          }
          twin.withUnsafeMutableBufferPointer { matmulFloatReference(w, xp.baseAddress!, $0.baseAddress!, n: n) }
        }
        #expect(batch.map(\.bitPattern) == alone.map(\.bitPattern), "\(type) n \(n): batch vs one row at a time")
        if pg_isa() >= 1 {
          #expect(batch.map(\.bitPattern) == twin.map(\.bitPattern), "\(type) n \(n): SIMD vs twin")
        }
      }
    }
  }

  @Test("a changed weight changes the result beyond the tolerance (the tests above can fail)")
  func corruptionIsCaught() {
    var rng = SplitMix64(seed: 0xC0F)
    let cols = 100
    for level in SIMDKernelTests.levels {
      var weights = Self.weights(.f16, rows: 1, cols: cols, rng: &rng)
      let x = [Float](repeating: 1, count: cols)
      let clean = weights.withUnsafeBytes { w in x.withUnsafeBufferPointer { vecDotGeneric(.f16, w.baseAddress!, $0.baseAddress!, cols) } }
      weights[2 * 97 + 1] ^= 0x40  // an exponent bit of the last element, inside the scalar tail
      var y: Float = .nan
      _ = weights.withUnsafeBytes { w in
        x.withUnsafeBufferPointer { Self.gemm(level: level, .f16, w, rows: 1, cols: cols, $0.baseAddress!, n: 1, &y) }
      }
      #expect(abs(y - clean) > 1e-3, "level \(level): \(y) vs \(clean)")
    }
  }
}
