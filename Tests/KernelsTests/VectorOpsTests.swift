import TestSupport
import Foundation
import Kernels
import Testing

/// SIMD vector kernels against naive loops, and the element-wise ops against plain Double math.
@Suite("Vector ops vs naive")
struct VectorOpsTests {
  @Test("dotF32 matches a Double loop for every n in 0...70, at unaligned addresses")
  func dot() {
    var rng = SplitMix64(seed: 0xD0D)
    for n in 0...70 {
      for shift in [0, 1, 3] {
        let a = rng.floats(n + shift, in: -3...3)
        let b = rng.floats(n + shift, in: -3...3)
        var expected: Double = 0
        var magnitude: Double = 0
        for i in shift..<(n + shift) {
          expected += Double(a[i]) * Double(b[i])
          magnitude += abs(Double(a[i]) * Double(b[i]))
        }
        let got = a.withUnsafeBufferPointer { pa in
          b.withUnsafeBufferPointer { dotF32(pa.baseAddress! + shift, $0.baseAddress! + shift, n) }
        }
        #expect(abs(Double(got) - expected) <= 1e-6 * magnitude + 1e-30, "n \(n) shift \(shift): \(got) vs \(expected)")
      }
    }
  }

  @Test("axpyF32 matches a scalar loop for every n in 0...70 and writes nothing past n")
  func axpy() {
    var rng = SplitMix64(seed: 0xA4)
    for n in 0...70 {
      for shift in [0, 1] {
        let a = Float.random(in: -2...2, using: &rng)
        let x = rng.floats(n + shift + 8)
        let y0 = rng.floats(n + shift + 8)
        var y = y0
        x.withUnsafeBufferPointer { px in
          y.withUnsafeMutableBufferPointer { axpyF32(a, px.baseAddress! + shift, $0.baseAddress! + shift, n) }
        }
        for i in 0..<y.count {
          if i < shift || i >= n + shift {
            #expect(y[i].bitPattern == y0[i].bitPattern, "n \(n): element \(i) outside the range changed")
          } else {
            let expected = Double(y0[i]) + Double(a) * Double(x[i])
            let scale = abs(Double(y0[i])) + abs(Double(a) * Double(x[i]))
            #expect(abs(Double(y[i]) - expected) <= 2e-7 * scale, "n \(n) [\(i)]: \(y[i]) vs \(expected)")
          }
        }
      }
    }
  }

  static let lengths = [1, 2, 7, 33, 64, 100, 576, 2049]

  @Test("rmsNorm matches x / sqrt(mean(x²) + eps) * w in Double", arguments: lengths)
  func rmsNormMatches(_ n: Int) {
    var rng = SplitMix64(seed: 0x12 &+ UInt64(n))
    for (range, eps) in [(Float(-1)...1, Float(1e-5)), (-100...100, 1e-6), (-1e-3...1e-3, 1e-5)] {
      let x = rng.floats(n, in: range)
      let w = rng.floats(n, in: 0.5...1.5)
      var out = [Float](repeating: .nan, count: n)
      x.withUnsafeBufferPointer { px in
        w.withUnsafeBufferPointer { pw in
          out.withUnsafeMutableBufferPointer { rmsNorm(px.baseAddress!, pw.baseAddress!, $0.baseAddress!, n, eps: eps) }
        }
      }
      let meanSquare = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n)
      let scale = 1 / (meanSquare + Double(eps)).squareRoot()
      for i in 0..<n {
        let expected = Double(x[i]) * scale * Double(w[i])
        #expect(abs(Double(out[i]) - expected) <= 1e-6 * abs(expected) + 1e-12, "n \(n) [\(i)]: \(out[i]) vs \(expected)")
      }
    }
  }

  @Test("softmax matches exp(x - max) / sum in Double, including large and masked inputs", arguments: lengths)
  func softmaxMatches(_ n: Int) {
    var rng = SplitMix64(seed: 0x50F &+ UInt64(n))
    for pattern in 0..<3 {
      var x: [Float]
      switch pattern {
      case 0: x = rng.floats(n, in: -5...5)
      case 1: x = rng.floats(n, in: 500...600)  // exp overflows unless the max is subtracted
      default:
        x = rng.floats(n, in: -20...20)
        for i in stride(from: 1, to: n, by: 3) { x[i] = -.infinity }  // attention mask
      }
      let input = x
      x.withUnsafeMutableBufferPointer { softmax($0.baseAddress!, n) }
      let maxValue = Double(input.max()!)
      let exps = input.map { exp(Double($0) - maxValue) }
      let total = exps.reduce(0, +)
      for i in 0..<n {
        let expected = exps[i] / total
        #expect(abs(Double(x[i]) - expected) <= 1e-6 * expected + 1e-9, "n \(n) pattern \(pattern) [\(i)]: \(x[i]) vs \(expected)")
      }
      #expect(abs(x.reduce(0.0) { $0 + Double($1) } - 1) <= 1e-5)
    }
  }

  @Test("swiglu matches silu(g) * up in Double", arguments: lengths)
  func swigluMatches(_ n: Int) {
    var rng = SplitMix64(seed: 0x5716 &+ UInt64(n))
    var gate = rng.floats(n, in: -12...12)
    if n > 2 {
      gate[0] = -100  // exp(100) overflows Float: silu must still give -0, not NaN
      gate[1] = 100
    }
    let up = rng.floats(n, in: -3...3)
    let g0 = gate
    gate.withUnsafeMutableBufferPointer { pg in up.withUnsafeBufferPointer { swiglu(pg.baseAddress!, $0.baseAddress!, n) } }
    for i in 0..<n {
      let g = Double(g0[i])
      let expected = g / (1 + exp(-g)) * Double(up[i])
      #expect(gate[i].isFinite)
      #expect(abs(Double(gate[i]) - expected) <= 2e-6 * abs(expected) + 1e-30, "n \(n) [\(i)]: \(gate[i]) vs \(expected)")
    }
  }

  @Test("geluTanhGated matches 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³)))·up in Double, and its twin", arguments: lengths)
  func geluTanhGatedMatches(_ n: Int) {
    var rng = SplitMix64(seed: 0x6E1 &+ UInt64(n))
    var gate = rng.floats(n, in: -6...6)
    if n > 3 {
      gate[0] = -100  // far negative: −0-ish, never NaN
      gate[1] = 100
      gate[2] = 0
    }
    let up = rng.floats(n, in: -3...3)
    var fast = gate
    var twin = gate
    fast.withUnsafeMutableBufferPointer { g in up.withUnsafeBufferPointer { geluTanhGated(g.baseAddress!, $0.baseAddress!, n) } }
    twin.withUnsafeMutableBufferPointer { g in
      up.withUnsafeBufferPointer { geluTanhGatedReference(g.baseAddress!, $0.baseAddress!, n) }
    }
    for i in 0..<n {
      let x = Double(gate[i])
      let expected = 0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))) * Double(up[i])
      #expect(fast[i].isFinite)
      // Like the twin, the kernel loses relative precision where 1 + tanh cancels (x ≪ 0): the
      // absolute part of the bounds is float rounding of 1 + tanh, scaled by |x·up|.
      let scale = abs(gate[i] * up[i])
      #expect(
        abs(Double(fast[i]) - expected) <= 4e-6 * abs(expected) + 2e-7 * Double(scale) + 1e-30,
        "n \(n) [\(i)]: \(fast[i]) vs \(expected)")
      #expect(abs(fast[i] - twin[i]) <= 2e-6 * scale + 1e-30, "twin n \(n) [\(i)]: \(fast[i]) vs \(twin[i])")
    }
  }

  @Test("swiglu and rmsNorm agree with their reference twins", arguments: lengths)
  func fastMatchesTwins(_ n: Int) {
    var rng = SplitMix64(seed: 0x7317 &+ UInt64(n))
    let x = rng.floats(n, in: -12...12)
    let w = rng.floats(n, in: 0.5...1.5)
    var fast = x
    var reference = x
    fast.withUnsafeMutableBufferPointer { g in w.withUnsafeBufferPointer { swiglu(g.baseAddress!, $0.baseAddress!, n) } }
    reference.withUnsafeMutableBufferPointer { g in
      w.withUnsafeBufferPointer { swigluReference(g.baseAddress!, $0.baseAddress!, n) }
    }
    for i in 0..<n { #expect(abs(fast[i] - reference[i]) <= 1e-6 * abs(reference[i]) + 1e-30, "swiglu [\(i)]") }
    var a = [Float](repeating: .nan, count: n)
    var b = [Float](repeating: .nan, count: n)
    x.withUnsafeBufferPointer { px in
      w.withUnsafeBufferPointer { pw in
        a.withUnsafeMutableBufferPointer { rmsNorm(px.baseAddress!, pw.baseAddress!, $0.baseAddress!, n, eps: 1e-5) }
        b.withUnsafeMutableBufferPointer {
          rmsNormReference(px.baseAddress!, pw.baseAddress!, $0.baseAddress!, n, eps: 1e-5)
        }
      }
    }
    // Both sum squares in Double; only the summation order differs.
    for i in 0..<n { #expect(abs(a[i] - b[i]) <= 1e-6 * abs(b[i]), "rmsNorm [\(i)]") }
  }

  @Test("addInPlace adds element-wise")
  func add() {
    var y: [Float] = [1, 2, 3, 4, 5]
    let x: [Float] = [0.5, -2, 0, 1e-8, 10]
    y.withUnsafeMutableBufferPointer { py in x.withUnsafeBufferPointer { addInPlace(py.baseAddress!, $0.baseAddress!, 4) } }
    #expect(y == [1.5, 0, 3, 4 + 1e-8, 5])
  }
}
