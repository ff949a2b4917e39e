import Foundation
import KernelsC

/// Dot product of two float vectors, two 16-lane FMA accumulators.
@inline(__always)
public func dotF32(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
  var acc0 = SIMD16<Float>()
  var acc1 = SIMD16<Float>()
  let ra = UnsafeRawPointer(a)
  let rb = UnsafeRawPointer(b)
  var i = 0
  while i + 32 <= n {
    acc0.addProduct(
      ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self),
      rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
    acc1.addProduct(
      ra.loadUnaligned(fromByteOffset: 4 * (i + 16), as: SIMD16<Float>.self),
      rb.loadUnaligned(fromByteOffset: 4 * (i + 16), as: SIMD16<Float>.self))
    i += 32
  }
  var s16 = acc0 + acc1
  if i + 16 <= n {
    s16.addProduct(
      ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self),
      rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
    i += 16
  }
  let s8 = s16.lowHalf + s16.highHalf
  let s4 = s8.lowHalf + s8.highHalf
  var sum = (s4[0] + s4[2]) + (s4[1] + s4[3])
  while i < n {
    sum += a[i] * b[i]
    i += 1
  }
  return sum
}

/// `y += a * x` over `n` floats.
@inline(__always)
public func axpyF32(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
  var i = 0
  let va = SIMD16<Float>(repeating: a)
  let rx = UnsafeRawPointer(x)
  let ry = UnsafeMutableRawPointer(y)
  while i + 16 <= n {
    var vy = ry.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
    vy.addProduct(va, rx.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
    ry.storeBytes(of: vy, toByteOffset: 4 * i, as: SIMD16<Float>.self)
    i += 16
  }
  while i < n {
    y[i] += a * x[i]
    i += 1
  }
}

/// RMSNorm: `out = x / sqrt(mean(x²) + eps) * weight`, sum of squares in Double as ggml does.
/// SIMD kernel when the CPU has one; `rmsNormReference` otherwise.
@inline(__always)
public func rmsNorm(
  _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int, eps: Float
) {
  if pg_rms_norm(x, weight, out, Int32(n), eps) == 0 { rmsNormReference(x, weight, out, n, eps: eps) }
}

/// Reference twin of `rmsNorm`: plain loops.
public func rmsNormReference(
  _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int, eps: Float
) {
  var sum: Double = 0
  for i in 0..<n { sum += Double(x[i]) * Double(x[i]) }
  let scale = Float(1 / (sum / Double(n) + Double(eps)).squareRoot())
  for i in 0..<n { out[i] = x[i] * scale * weight[i] }
}

/// In-place softmax over `n` floats.
public func softmax(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
  var maxValue = -Float.infinity
  for i in 0..<n { maxValue = max(maxValue, x[i]) }
  var sum: Double = 0
  for i in 0..<n {
    let e = expf(x[i] - maxValue)
    x[i] = e
    sum += Double(e)
  }
  let inv = Float(1 / sum)
  for i in 0..<n { x[i] *= inv }
}

/// SwiGLU: `gate[i] = silu(gate[i]) * up[i]`; SIMD kernel (vector exp) when the CPU has one.
@inline(__always)
public func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, _ n: Int) {
  if pg_swiglu(gate, up, Int32(n)) == 0 { swigluReference(gate, up, n) }
}

/// Reference twin of `swiglu`: `expf` per element.
public func swigluReference(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, _ n: Int) {
  for i in 0..<n {
    let g = gate[i]
    gate[i] = g / (1 + expf(-g)) * up[i]
  }
}

/// `y += x` over `n` floats.
public func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
  for i in 0..<n { y[i] += x[i] }
}
