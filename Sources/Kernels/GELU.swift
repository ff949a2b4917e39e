import Foundation

/// GELU in its tanh form: `0.5 x (1 + tanh(√(2/π) x (1 + 0.044715 x²)))`, the approximation Gemma's
/// feed-forward was trained with, in Float with the one fused multiply-add llama.cpp's compiled code
/// has (`1 + 0.044715x·x`).
@inline(__always)
public func geluTanh(_ x: Float) -> Float {
  let inner: Float = 0.797_884_56 * x * Float(1).addingProduct(0.044_715 * x, x)
  return 0.5 * x * (1 + tanhf(inner))
}

/// `geluTanh` of every Float16 value, rounded to Float16, indexed by bit pattern: llama.cpp evaluates
/// GELU through such a table (inputs rounded to f16 as well), so using the same table keeps Gemma's
/// activations bit-identical to the reference engine's. 128 KiB, built on first use.
let geluHalfTable: [Float16] = (0...UInt16.max).map { Float16(geluTanh(Float(Float16(bitPattern: $0)))) }

/// Gated GELU (GeGLU): `gate[i] = gelu(gate[i]) * up[i]` over `n` floats, GELU taken from the f16
/// table for |x| < 10 (0 below −10, x above +10, where GELU equals those to f16 precision).
public func geluTanhGated(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, _ n: Int) {
  geluHalfTable.withUnsafeBufferPointer { table in
    for i in 0..<n {
      let x = gate[i]
      if x <= -10 {
        gate[i] = 0
      } else if x >= 10 {
        gate[i] = x * up[i]
      } else {
        gate[i] = Float(table[Int(Float16(x).bitPattern)]) * up[i]
      }
    }
  }
}

/// `geluTanhGated` over the pool's threads when `n` is large (prefill), in one call otherwise.
public func geluTanhGated(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, _ n: Int, pool: ThreadPool) {
  if n < 1 << 15 {
    geluTanhGated(gate, up, n)
    return
  }
  pool.parallelEven(n, granule: 64) { r in geluTanhGated(gate + r.lowerBound, up + r.lowerBound, r.count) }
}
