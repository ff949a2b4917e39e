import TestSupport
import Foundation
import Kernels
import Testing

/// `RopeTable.apply` against the closed form: pair i of every head rotated by
/// pos · base^(-2i/d), computed directly in Double.
@Suite("RoPE vs direct formula")
struct RopeTests {
  static let positions = [0, 1, 2, 7, 31, 100, 511, 1000, 2047, 3001, 4095, 4096]

  /// Rotates a copy of `x` the slow, obvious way.
  static func direct(
    _ x: [Float], heads: Int, headDim: Int, dimensions: Int, base: Double, adjacent: Bool, position: Int
  ) -> [Double] {
    var out = x.map(Double.init)
    let pairs = dimensions / 2
    for h in 0..<heads {
      for i in 0..<pairs {
        let theta = Double(position) * pow(base, -2 * Double(i) / Double(dimensions))
        let (a, b) = adjacent ? (h * headDim + 2 * i, h * headDim + 2 * i + 1) : (h * headDim + i, h * headDim + i + pairs)
        let x0 = Double(x[a])
        let x1 = Double(x[b])
        out[a] = x0 * cos(theta) - x1 * sin(theta)
        out[b] = x0 * sin(theta) + x1 * cos(theta)
      }
    }
    return out
  }

  static func worstError(
    heads: Int, headDim: Int, dimensions: Int, base: Float, adjacent: Bool, position: Int, rng: inout SplitMix64
  ) -> (error: Double, untouchedChanged: Bool) {
    let x = rng.floats(heads * headDim)
    var y = x
    let table = RopeTable(dimensions: dimensions, base: base, adjacentPairs: adjacent)
    y.withUnsafeMutableBufferPointer { table.apply($0.baseAddress!, heads: heads, headDim: headDim, position: position) }
    let expected = direct(
      x, heads: heads, headDim: headDim, dimensions: dimensions, base: Double(base), adjacent: adjacent,
      position: position)
    var worst: Double = 0
    var untouchedChanged = false
    for h in 0..<heads {
      for j in 0..<headDim {
        let k = h * headDim + j
        worst = max(worst, abs(Double(y[k]) - expected[k]))
        // Beyond the rotated dimensions (partial rotary) values pass through bit for bit.
        if j >= dimensions && y[k].bitPattern != x[k].bitPattern { untouchedChanged = true }
      }
    }
    return (worst, untouchedChanged)
  }

  static let shapes: [(headDim: Int, dimensions: Int, base: Float)] = [
    (64, 64, 10000), (128, 128, 500000), (64, 32, 10000), (6, 6, 10000),
  ]

  /// Worst error over every shape for one pairing and position.
  static func worstError(adjacent: Bool, position: Int) -> Double {
    var rng = SplitMix64(seed: UInt64(position) << 1 | (adjacent ? 1 : 0))
    var worst: Double = 0
    for shape in shapes {
      let (error, changed) = worstError(
        heads: 3, headDim: shape.headDim, dimensions: shape.dimensions, base: shape.base, adjacent: adjacent,
        position: position, rng: &rng)
      #expect(!changed, "headDim \(shape.headDim) dims \(shape.dimensions): unrotated values changed")
      worst = max(worst, error)
    }
    return worst
  }

  @Test("both pairings, full and partial rotary: within 1e-4 up to position 2047", arguments: [true, false])
  func matchesDirectFormula(_ adjacent: Bool) {
    for position in Self.positions where position < 2048 {
      let error = Self.worstError(adjacent: adjacent, position: position)
      #expect(error <= 1e-4, "position \(position): error \(error)")
    }
  }

  /// ggml's float recurrence theta *= base^(-2/d) drifts with position (about 3e-4 at 4096 for
  /// d = 128, base 5e5); this bound catches anything worse than that arithmetic.
  @Test("both pairings: within 5e-4 up to position 4096", arguments: [true, false])
  func matchesDirectFormulaLongContext(_ adjacent: Bool) {
    for position in Self.positions {
      let error = Self.worstError(adjacent: adjacent, position: position)
      #expect(error <= 5e-4, "position \(position): error \(error)")
    }
  }

  @Test("within 1e-4 of the direct formula at positions 3001...4096 (fails: float theta recurrence)")
  func longContextPrecision() {
    withKnownIssue("RopeTable.apply builds theta by repeated Float multiplication; error reaches ~3e-4 near 4096") {
      for adjacent in [true, false] {
        for position in Self.positions where position >= 2048 {
          let error = Self.worstError(adjacent: adjacent, position: position)
          #expect(error <= 1e-4, "adjacent \(adjacent) position \(position): error \(error)")
        }
      }
    }
  }

  @Test("position 0 is the identity; a rotation preserves each pair's length")
  func identityAndNorm() {
    var rng = SplitMix64(seed: 3)
    let x = rng.floats(2 * 64)
    for adjacent in [true, false] {
      let table = RopeTable(dimensions: 64, base: 10000, adjacentPairs: adjacent)
      var y = x
      y.withUnsafeMutableBufferPointer { table.apply($0.baseAddress!, heads: 2, headDim: 64, position: 0) }
      #expect(y == x)
      y.withUnsafeMutableBufferPointer { table.apply($0.baseAddress!, heads: 2, headDim: 64, position: 777) }
      let before = x.reduce(0) { $0 + Double($1) * Double($1) }
      let after = y.reduce(0) { $0 + Double($1) * Double($1) }
      #expect(abs(before - after) <= 1e-5 * before)
    }
  }

  @Test("apply(queries:keys:) equals separate apply calls bit for bit", arguments: [false, true])
  func pairedMatchesSeparate(_ adjacent: Bool) {
    var rng = SplitMix64(seed: adjacent ? 0x9A1 : 0x9A2)
    let table = RopeTable(dimensions: 64, base: 10_000, adjacentPairs: adjacent, positionScale: 0.5)
    for position in Self.positions {
      let q0 = rng.floats(4 * 64, in: -3...3)
      let k0 = rng.floats(64, in: -3...3)
      var q1 = q0, k1 = k0, q2 = q0, k2 = k0
      q1.withUnsafeMutableBufferPointer { q in
        k1.withUnsafeMutableBufferPointer { k in
          table.apply(queries: q.baseAddress!, heads: 4, keys: k.baseAddress!, kvHeads: 1, headDim: 64, position: position)
        }
      }
      q2.withUnsafeMutableBufferPointer { table.apply($0.baseAddress!, heads: 4, headDim: 64, position: position) }
      k2.withUnsafeMutableBufferPointer { table.apply($0.baseAddress!, heads: 1, headDim: 64, position: position) }
      #expect(q1.map(\.bitPattern) == q2.map(\.bitPattern), "queries at \(position)")
      #expect(k1.map(\.bitPattern) == k2.map(\.bitPattern), "keys at \(position)")
      #expect(q1 != q0 || position == 0)
    }
  }
}
