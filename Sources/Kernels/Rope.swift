import Foundation

/// Rotary position embedding tables for one model: cos/sin per position and frequency pair.
///
/// `adjacentPairs` rotates (x[2i], x[2i+1]) — llama.cpp's "normal" mode, which GGUF llama weights
/// expect because the converter permuted Q and K. The other ("neox") mode rotates (x[i], x[i+d/2]).
public struct RopeTable: Sendable {
  public let dimensions: Int
  public let base: Float
  public let adjacentPairs: Bool
  /// Linear RoPE scaling: positions are multiplied by this (1 / the GGUF's `rope.scaling.factor`).
  public let positionScale: Float
  /// Frequency scaling applied per pair the way ggml's `rope_yarn` does (Llama 3 factors, linear,
  /// YaRN); nil: none.
  public let scaling: RopeScaling?

  public init(
    dimensions: Int, base: Float, adjacentPairs: Bool, positionScale: Float = 1, scaling: RopeScaling? = nil
  ) {
    self.dimensions = dimensions
    self.base = base
    self.adjacentPairs = adjacentPairs
    self.positionScale = positionScale
    self.scaling = scaling.flatMap { $0.isIdentity ? nil : $0 }
  }

  /// Rotates `heads` vectors of `headDim` floats laid out `[heads, headDim]` for one position.
  public func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, position: Int) {
    let pairs = dimensions / 2
    // Same recurrence as ggml: theta_i = pos * base^(-2i/d), built by repeated multiplication.
    let thetaScale = powf(base, -2 / Float(dimensions))
    var theta = Float(position) * positionScale
    for i in 0..<pairs {
      let (c, s) = cosSin(theta, pair: i)
      for h in 0..<heads {
        let v = x + h * headDim
        let (a, b) = adjacentPairs ? (2 * i, 2 * i + 1) : (i, i + pairs)
        let x0 = v[a]
        let x1 = v[b]
        // Fused as llama.cpp's compiled code has them (one product rounded, the other fused), so
        // rotated values are bit-identical to the reference engine's.
        v[a] = (-(x1 * s)).addingProduct(x0, c)
        v[b] = (x1 * c).addingProduct(x0, s)
      }
      theta *= thetaScale
    }
  }

  /// `apply` to a token's queries and keys at once: each cos/sin pair is computed once for both
  /// (the same values, so the result equals two `apply` calls bit for bit).
  public func apply(
    queries q: UnsafeMutablePointer<Float>, heads: Int, keys k: UnsafeMutablePointer<Float>, kvHeads: Int,
    headDim: Int, position: Int
  ) {
    let pairs = dimensions / 2
    let thetaScale = powf(base, -2 / Float(dimensions))
    var theta = Float(position) * positionScale
    for i in 0..<pairs {
      let (c, s) = cosSin(theta, pair: i)
      let (a, b) = adjacentPairs ? (2 * i, 2 * i + 1) : (i, i + pairs)
      for h in 0..<(heads + kvHeads) {
        let v = h < heads ? q + h * headDim : k + (h - heads) * headDim
        let x0 = v[a]
        let x1 = v[b]
        v[a] = (-(x1 * s)).addingProduct(x0, c)  // fused as in `apply`
        v[b] = (x1 * c).addingProduct(x0, s)
      }
      theta *= thetaScale
    }
  }

  /// cos and sin of pair `i`'s angle, `theta` being position · base^(-2i/d): ggml's `rope_yarn`
  /// operation for operation when the table scales frequencies.
  @inline(__always) func cosSin(_ theta: Float, pair i: Int) -> (Float, Float) {
    guard let r = scaling else { return (cosf(theta), sinf(theta)) }
    let extrapolated = r.frequencyFactors.map { theta / $0[i] } ?? theta
    let interpolated = r.frequencyScale * extrapolated
    var angle = interpolated
    var magnitude = r.attentionFactor
    if r.extrapolationFactor != 0 {
      let y = (Float(i) - r.correctionLow) / max(0.001, r.correctionHigh - r.correctionLow)
      let mix = (1 - min(1, max(0, y))) * r.extrapolationFactor
      angle = (extrapolated * mix).addingProduct(interpolated, 1 - mix)
      magnitude *= Float(1).addingProduct(0.1, logf(1 / r.frequencyScale))
    }
    return (cosf(angle) * magnitude, sinf(angle) * magnitude)
  }
}

/// RoPE frequency scaling as ggml's `rope_yarn` applies it per frequency pair i with angle θ_i:
/// θ_i / `frequencyFactors[i]` (Llama 3's `rope_freqs.weight`), times `frequencyScale` (linear and
/// YaRN interpolation), for YaRN mixed back towards the unscaled angle on the pairs below the
/// correction range, and cos/sin times `attentionFactor` (YaRN's magnitude correction).
public struct RopeScaling: Sendable, Equatable {
  /// 1 / `rope.scaling.factor` for linear and YaRN scaling, else 1.
  public var frequencyScale: Float
  /// Per pair divisors of the angle (`[dimensions / 2]`), or nil.
  public var frequencyFactors: [Float]?
  /// YaRN's extrapolation mix (1 for YaRN, 0 otherwise).
  public var extrapolationFactor: Float
  /// Multiplies cos and sin.
  public var attentionFactor: Float
  /// Pairs below `correctionLow` keep their unscaled angle, above `correctionHigh` take the
  /// interpolated one (YaRN only).
  public var correctionLow: Float
  public var correctionHigh: Float

  public init(
    frequencyScale: Float = 1, frequencyFactors: [Float]? = nil, extrapolationFactor: Float = 0,
    attentionFactor: Float = 1, correctionLow: Float = 0, correctionHigh: Float = 0
  ) {
    self.frequencyScale = frequencyScale
    self.frequencyFactors = frequencyFactors
    self.extrapolationFactor = extrapolationFactor
    self.attentionFactor = attentionFactor
    self.correctionLow = correctionLow
    self.correctionHigh = correctionHigh
  }

  /// Whether it leaves every angle and magnitude unchanged.
  public var isIdentity: Bool {
    frequencyScale == 1 && frequencyFactors == nil && extrapolationFactor == 0 && attentionFactor == 1
  }

  /// YaRN for `dimensions` rotated values trained on `originalContext` positions, interpolating by
  /// 1/`factor`: ggml's correction range (`ggml_rope_yarn_corr_dims`, β_fast 32, β_slow 1 unless
  /// given) and llama.cpp's magnitude (`attentionFactor` cancels the √-log growth rope_yarn adds,
  /// then multiplies by the file's `rope.scaling.attn_factor`).
  public static func yarn(
    factor: Float, originalContext: Int, dimensions: Int, base: Float, attentionFactor fileFactor: Float = 1,
    betaFast: Float = 32, betaSlow: Float = 1
  ) -> RopeScaling {
    func correctionDimension(_ rotations: Float) -> Float {
      Float(dimensions) * logf(Float(originalContext) / (rotations * 2 * Float.pi)) / (2 * logf(base))
    }
    let low = max(0, floorf(correctionDimension(betaFast)))
    let high = min(Float(dimensions - 1), ceilf(correctionDimension(betaSlow)))
    // llama.cpp's get_mscale(factor, 1), then the cancelling term, in its float operations.
    let mscale = factor <= 1 ? 1 : Float(1).addingProduct(0.1, logf(factor))
    let attention = mscale * (1 / Float(1).addingProduct(0.1, logf(factor)))
    return RopeScaling(
      frequencyScale: 1 / factor, extrapolationFactor: 1, attentionFactor: attention * fileFactor,
      correctionLow: low, correctionHigh: high)
  }
}
