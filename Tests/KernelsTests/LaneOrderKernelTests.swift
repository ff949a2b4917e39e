import GGUF
import Kernels
import KernelsC
import TestSupport
import Testing

/// The packed SIMD kernels for Gemma 3's and SmolLM2's weight types against `vecDotLaneOrder`,
/// llama.cpp's float order written out plainly: every output must be bit-identical, at every level
/// this CPU runs (on AVX-512, Q4_1 and Q8_0 take the 512-bit tiles of kernels_packed_zmm.h).
@Suite("Packed Q4_0 / Q4_1 / Q5_0 / Q8_0 / IQ4_NL / Q4_K / Q5_K / Q6_K kernels equal vecDotLaneOrder bit for bit")
struct LaneOrderKernelTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var type: GGMLType
    var paired: Bool
    var fast = false
    var testDescription: String { "\(type)\(paired ? " batched" : "")\(fast ? " fast" : "")" }
  }

  static let cases: [Case] = [
    Case(type: .q4_1, paired: false), Case(type: .q5_0, paired: false), Case(type: .q8_0, paired: false),
    Case(type: .q6_K, paired: false),
    Case(type: .q6_K, paired: true), Case(type: .q4_K, paired: false), Case(type: .q4_K, paired: true),
    Case(type: .q4_0, paired: false), Case(type: .iq4_nl, paired: false), Case(type: .q4_0, paired: false, fast: true),
    Case(type: .q5_K, paired: false), Case(type: .q5_K, paired: true),
  ]

  /// The packed kernel over rows × cols weights and n activation rows, split into two group ranges
  /// as threads do; outputs [n, rows].
  static func packed(_ c: Case, level: Int32, weights: [UInt8], rows: Int, cols: Int, act: [UInt8], n: Int) -> [Float] {
    let code = Int32(c.type.rawValue)
    let actBytes = ActivationFormat(weights: c.type).rowBytes(cols)
    var packed = [UInt8](repeating: 0, count: pg_packed_size(code, Int32(rows), Int32(cols)))
    weights.withUnsafeBytes { w in
      packed.withUnsafeMutableBytes {
        #expect(pg_pack(code, w.baseAddress!, c.type.rowBytes(cols)!, Int32(rows), Int32(cols), $0.baseAddress!) == 1)
      }
    }
    var y = [Float](repeating: .nan, count: n * rows)
    packed.withUnsafeBytes { p in
      act.withUnsafeBytes { a in
        y.withUnsafeMutableBufferPointer { out in
          let groups = Int32((rows + 7) / 8)
          for (lo, hi) in [(Int32(0), groups / 2), (groups / 2, groups)] where lo < hi {
            let done = pg_gemm_packed_at(
              level, code | (c.paired ? Int32(PG_BATCHED) : 0) | (c.fast ? Int32(PG_FAST_ORDER) : 0), p.baseAddress!, Int32(rows), lo, hi, a.baseAddress!,
              actBytes, Int32(n), out.baseAddress!, rows, Int32(cols))
            #expect(done == 1)
          }
        }
      }
    }
    return y
  }

  /// Weight rows quantized from floats and raw rows using every code and scale byte; activation
  /// rows, the second one large (wide integer sums exercise every lane's conversion to float).
  static func randomInputs(
    _ type: GGMLType, rows: Int, cols: Int, n: Int, rng: inout SplitMix64
  ) -> (weights: [UInt8], act: [UInt8]) {
    let weights = (0..<rows).flatMap { r in
      r % 3 == 2 ? KernelTestData.rawRow(type, cols: cols, rng: &rng) : KernelTestData.row(type, cols: cols, rng: &rng)
    }
    var act = [UInt8]()
    for t in 0..<n { act += VecDotTests.activations(for: type, rng.floats(cols, in: t == 1 ? -300...300 : -2...2)) }
    return (weights, act)
  }

  @Test("packed kernel == vecDotLaneOrder on random rows, odd shapes", arguments: cases)
  func bitIdentical(_ c: Case) {
    #expect(!SIMDKernelTests.levels.isEmpty, "no SIMD level: nothing below would run")
    var rng = SplitMix64(seed: 0x1A7E &+ UInt64(c.type.rawValue) &+ (c.paired ? 99 : 0))
    // Q4_1 / Q8_0 at 9,216 columns (288 blocks) run spans of 28 rows on the 512-bit tiles, at 65,536
    // (2,048 blocks, the longest rows the scale buffer takes four of) spans of 4.
    let colsList =
      c.type.blockSize == 256 ? [256, 768, 2048] : [32, 96, 640, 2048] + (c.type == .q5_0 ? [] : [9216, 65_536])
    let actBytes0 = { (cols: Int) in ActivationFormat(weights: c.type).rowBytes(cols) }
    for level in SIMDKernelTests.levels {
      for cols in colsList {
        let rowBytes = c.type.rowBytes(cols)!
        let actBytes = actBytes0(cols)
        // 40 rows × 70: a pair of groups and an odd one, the pair over more activation rows than
        // one Q6_K span (kernels_packed_q6k_span.h) with a remainder of 2. 9 × 70: several spans of
        // Q4_1 / Q8_0 rows, each group's codes permuted once per span (kernels_packed_zmm.h).
        let shapes =
          [(8, 1), (13, 7), (37, 2), (9, 5), (3, 4), (24, 9)] + (c.type.blockSize == 256 ? [(40, 70)] : [(9, 70)])
        for (rows, n) in shapes {
          let (weights, act) = Self.randomInputs(c.type, rows: rows, cols: cols, n: n, rng: &rng)
          let y = Self.packed(c, level: level, weights: weights, rows: rows, cols: cols, act: act, n: n)
          var mismatches = 0
          for t in 0..<n {
            for r in 0..<rows {
              let expected = weights.withUnsafeBytes { w in
                act.withUnsafeBytes { a in
                  vecDotLaneOrder(
                    c.type, w.baseAddress! + r * rowBytes, a.baseAddress! + t * actBytes, cols, batched: c.paired)!
                }
              }
              if y[t * rows + r].bitPattern != expected.bitPattern {
                mismatches += 1
                if mismatches <= 3 {
                  Issue.record("level \(level) \(c.testDescription) \(rows)x\(cols) [\(t), \(r)]: \(y[t * rows + r]) vs \(expected)")
                }
              }
            }
          }
          #expect(mismatches == 0, "level \(level) \(c.testDescription) \(rows)x\(cols) n \(n)")
        }
      }
    }
  }

  /// The fast order has no llama.cpp twin (its test is a tolerance), but it must not depend on the
  /// machine either: the 512-bit Q4_1 / Q8_0 tiles give the 256-bit tiles' bits.
  @Test(
    "fast-order Q4_1 / Q8_0 give the same bits at every SIMD level",
    arguments: [Case(type: .q4_1, paired: false, fast: true), Case(type: .q8_0, paired: false, fast: true)])
  func fastOrderSameAtEveryLevel(_ c: Case) throws {
    try #require(SIMDKernelTests.levels.count >= 2, "this CPU runs one SIMD level: nothing to compare")
    var rng = SplitMix64(seed: 0xFA57 &+ UInt64(c.type.rawValue))
    for cols in [96, 640, 9216] {
      for (rows, n) in [(13, 7), (40, 9), (8, 1)] {
        let (weights, act) = Self.randomInputs(c.type, rows: rows, cols: cols, n: n, rng: &rng)
        let outputs = SIMDKernelTests.levels.map {
          Self.packed(c, level: $0, weights: weights, rows: rows, cols: cols, act: act, n: n).map(\.bitPattern)
        }
        for (i, y) in outputs.enumerated().dropFirst() {
          #expect(y == outputs[0], "\(c.testDescription) \(rows)x\(cols) n \(n): level \(SIMDKernelTests.levels[i])")
        }
      }
    }
  }

  @Test("the twin follows the order: a different order differs in the last bits on many outputs")
  func orderIsVisible() {
    // Guards the test above: the plain one-sum-per-block dot (`vecDot`) must disagree with the lane
    // order on a good share of random outputs, else bit equality would not prove the order.
    var rng = SplitMix64(seed: 0x0DE7)
    for type: GGMLType in [.q4_1, .q5_0, .q8_0, .q6_K, .q4_K, .q4_0, .q5_K] {
      let cols = type.blockSize == 256 ? 2048 : 640
      var differ = 0
      for _ in 0..<50 {
        let row = KernelTestData.row(type, cols: cols, rng: &rng)
        let act = VecDotTests.activations(for: type, rng.floats(cols, in: -2...2))
        row.withUnsafeBytes { w in
          act.withUnsafeBytes { a in
            let lane = vecDotLaneOrder(type, w.baseAddress!, a.baseAddress!, cols, batched: type == .q4_K || type == .q5_K)!
            if lane.bitPattern != vecDot(type, w.baseAddress!, a.baseAddress!, cols).bitPattern { differ += 1 }
          }
        }
      }
      #expect(differ >= 10, "\(type): only \(differ) of 50 differ")
    }
  }
}
