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

/// Reference twin of `rmsNorm`, with llama.cpp's arithmetic: squares rounded to Float and summed in
/// Double, the mean and the scale in Float, then `x · scale · w` as two Float multiplies.
public func rmsNormReference(
  _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int, eps: Float
) {
  var sum: Double = 0
  for i in 0..<n { sum += Double(x[i] * x[i]) }
  let mean = Float(sum / Double(n))
  let scale = 1 / (mean + eps).squareRoot()
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

/// Reference twin of `swiglu`: `g / (1 + e^−g) · up` with `expReference`, so the SIMD kernel must
/// match it bit for bit.
public func swigluReference(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, _ n: Int) {
  for i in 0..<n {
    let g = gate[i]
    gate[i] = g / (1 + expReference(0 - g)) * up[i]
  }
}

/// e^x the way llama.cpp's vector code computes it (x = n·ln2 + b, a degree-5 polynomial for e^b in
/// b and b², scaled by 2^n; within 1.5 ulp of e^x), operation for operation in scalar code. The
/// SiLU of the feed-forward layers uses it so outputs are bit-identical to the reference engine's.
public func expReference(_ x: Float) -> Float {
  let r: Float = 0x1.8p23
  let z = r.addingProduct(x, 0x1.715476p+0)
  let n = z - r
  let b = x.addingProduct(-n, 0x1.62e4p-1).addingProduct(-n, 0x1.7f7d1cp-20)
  let u = b * b
  let inner = Float(0x1.573e2ep-5).addingProduct(0x1.0e4020p-7, b)
  let middle = Float(0x1.fffdb6p-2).addingProduct(0x1.555e66p-3, b)
  let outer = Float(1).addingProduct(0x1.ffffecp-1, b)
  let j = outer.addingProduct(middle.addingProduct(inner, u), u)
  if n.isNaN { return n }
  if abs(n) > 192 { return n <= 0 ? 0 : .infinity }
  let ni = Int32(n)
  let n1 = ni >> 1
  let n2 = ni - n1
  return j * Float(sign: .plus, exponent: Int(n1), significand: 1) * Float(sign: .plus, exponent: Int(n2), significand: 1)
}

/// `y += x` over `n` floats.
public func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
  for i in 0..<n { y[i] += x[i] }
}
