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

  public init(dimensions: Int, base: Float, adjacentPairs: Bool, positionScale: Float = 1) {
    self.dimensions = dimensions
    self.base = base
    self.adjacentPairs = adjacentPairs
    self.positionScale = positionScale
  }

  /// Rotates `heads` vectors of `headDim` floats laid out `[heads, headDim]` for one position.
  public func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, position: Int) {
    let pairs = dimensions / 2
    // Same recurrence as ggml: theta_i = pos * base^(-2i/d), built by repeated multiplication.
    let thetaScale = powf(base, -2 / Float(dimensions))
    var theta = Float(position) * positionScale
    for i in 0..<pairs {
      let c = cosf(theta)
      let s = sinf(theta)
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
      let c = cosf(theta)
      let s = sinf(theta)
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
}
