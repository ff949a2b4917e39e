import Foundation
import Kernels
import TestSupport
import Testing

/// `RopeScaling` (Llama 3 frequency factors, linear, YaRN) against ggml's `rope_yarn` definition
/// evaluated in Double.
@Suite("RoPE scaling vs ggml's definition")
struct RopeScalingTests {
  /// Pair i of one head (NEOX layout) rotated by ggml's scaled angle and magnitude.
  static func direct(_ x: [Float], dims: Int, base: Double, position: Int, scaling s: RopeScaling) -> [Double] {
    var out = x.map(Double.init)
    let pairs = dims / 2
    for i in 0..<pairs {
      let extrapolated = Double(position) * pow(base, -2 * Double(i) / Double(dims)) / Double(s.frequencyFactors?[i] ?? 1)
      let interpolated = Double(s.frequencyScale) * extrapolated
      var angle = interpolated
      var magnitude = Double(s.attentionFactor)
      if s.extrapolationFactor != 0 {
        let y = (Double(i) - Double(s.correctionLow)) / max(0.001, Double(s.correctionHigh - s.correctionLow))
        let mix = (1 - min(1, max(0, y))) * Double(s.extrapolationFactor)
        angle = interpolated * (1 - mix) + extrapolated * mix
        magnitude *= 1 + 0.1 * log(1 / Double(s.frequencyScale))
      }
      let (x0, x1) = (Double(x[i]), Double(x[i + pairs]))
      out[i] = (x0 * cos(angle) - x1 * sin(angle)) * magnitude
      out[i + pairs] = (x0 * sin(angle) + x1 * cos(angle)) * magnitude
    }
    return out
  }

  static let cases: [(String, RopeScaling)] = [
    ("llama3 factors", RopeScaling(frequencyFactors: (0..<32).map { i in i < 12 ? 1 : (i > 24 ? 8 : 1 + Float(i - 12) / 2) })),
    ("linear 4", RopeScaling(frequencyScale: 0.25)),
    ("yarn 4", .yarn(factor: 4, originalContext: 4096, dimensions: 64, base: 1_000_000)),
    ("yarn 8 with attn_factor", .yarn(factor: 8, originalContext: 8192, dimensions: 64, base: 10_000, attentionFactor: 0.9)),
  ]

  @Test("scaled rotations follow rope_yarn within 2e-4 up to position 1000", arguments: 0..<4)
  func matchesDefinition(_ index: Int) {
    let (name, scaling) = Self.cases[index]
    let base: Float = name.hasPrefix("yarn 4") ? 1_000_000 : 10_000
    let table = RopeTable(dimensions: 64, base: base, adjacentPairs: false, scaling: scaling)
    var rng = SplitMix64(seed: UInt64(index))
    for position in [0, 1, 5, 100, 511, 1000] {
      let x = rng.floats(64)
      var y = x
      y.withUnsafeMutableBufferPointer { table.apply($0.baseAddress!, heads: 1, headDim: 64, position: position) }
      let expected = Self.direct(x, dims: 64, base: Double(base), position: position, scaling: scaling)
      let worst = zip(y, expected).map { abs(Double($0) - $1) }.max()!
      #expect(worst < 2e-4, "\(name) at \(position): \(worst)")
    }
  }

  @Test("YaRN's correction range and magnitude are llama.cpp's")
  func yarnParameters() {
    // Qwen-style YaRN (factor 4 over 32,768 positions, 128 dims, base 1e6): the range is
    // ggml_rope_yarn_corr_dims's formula with β_fast 32 and β_slow 1.
    let s = RopeScaling.yarn(factor: 4, originalContext: 32768, dimensions: 128, base: 1_000_000)
    func dim(_ rotations: Double) -> Double { 128 * log(32768 / (rotations * 2 * .pi)) / (2 * log(1_000_000)) }
    #expect(s.correctionLow == Float(floor(dim(32))))
    #expect(s.correctionHigh == Float(ceil(dim(1))))
    #expect(s.frequencyScale == 0.25 && s.extrapolationFactor == 1)
    // The attention factor cancels rope_yarn's 1 + 0.1·ln(4) growth (llama.cpp), to a float's precision.
    #expect(abs(Double(s.attentionFactor) * (1 + 0.1 * log(4.0)) - (1 + 0.1 * log(4.0))) < 1e-6)
    #expect(RopeScaling().isIdentity && !s.isIdentity)
  }

  @Test("no scaling leaves the plain table's bits unchanged")
  func identityIsFree() {
    let plain = RopeTable(dimensions: 64, base: 10_000, adjacentPairs: true)
    let identity = RopeTable(dimensions: 64, base: 10_000, adjacentPairs: true, scaling: RopeScaling())
    var rng = SplitMix64(seed: 9)
    let x = rng.floats(128)
    var a = x
    var b = x
    a.withUnsafeMutableBufferPointer { plain.apply($0.baseAddress!, heads: 2, headDim: 64, position: 333) }
    b.withUnsafeMutableBufferPointer { identity.apply($0.baseAddress!, heads: 2, headDim: 64, position: 333) }
    #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
  }
}
