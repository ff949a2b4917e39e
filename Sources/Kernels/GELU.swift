import Foundation
import KernelsC

/// GELU in its tanh form: `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))`, the approximation Gemma's
/// feed-forward was trained with.
@inline(__always)
public func geluTanh(_ x: Float) -> Float {
  let inner: Float = 0.797_884_56 * x * (1 + 0.044_715 * x * x)
  return 0.5 * x * (1 + tanhf(inner))
}

/// Gated GELU (GeGLU): `gate[i] = geluTanh(gate[i]) * up[i]` over `n` floats, through the SIMD kernel
/// when the CPU has one (the same formula, tanh from one exponential: within ~1e-6 of |x·up|).
public func geluTanhGated(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, _ n: Int) {
  if pg_gelu_tanh_gated(gate, up, Int32(n)) == 0 { geluTanhGatedReference(gate, up, n) }
}

/// `geluTanhGated` over the pool's threads when `n` is large (prefill), in one call otherwise.
public func geluTanhGated(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, _ n: Int, pool: ThreadPool) {
  if n < 1 << 15 {
    geluTanhGated(gate, up, n)
    return
  }
  pool.parallelEven(n, granule: 64) { r in geluTanhGated(gate + r.lowerBound, up + r.lowerBound, r.count) }
}

/// Reference twin of `geluTanhGated`: `geluTanh` (float `tanhf`) per element.
public func geluTanhGatedReference(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, _ n: Int) {
  for i in 0..<n { gate[i] = geluTanh(gate[i]) * up[i] }
}
