import Foundation

/// GELU in its tanh form: `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))`, the approximation Gemma's
/// feed-forward was trained with.
@inline(__always)
public func geluTanh(_ x: Float) -> Float {
  let inner: Float = 0.797_884_56 * x * (1 + 0.044_715 * x * x)
  return 0.5 * x * (1 + tanhf(inner))
}

/// Gated GELU (GeGLU): `gate[i] = geluTanh(gate[i]) * up[i]` over `n` floats.
public func geluTanhGated(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, _ n: Int) {
  for i in 0..<n { gate[i] = geluTanh(gate[i]) * up[i] }
}
