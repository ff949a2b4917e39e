import Foundation
import Kernels

/// Chooses a token's experts the way llama.cpp's `build_moe_ffn` does for softmax-gated models
/// (qwen3moe, Mixtral): logits = `ffn_gate_inp` · x, probabilities = softmax(logits), the `used`
/// most probable experts (descending), their probabilities as weights, normalized to sum 1 when
/// `normalizes` (both architectures always do; llama.cpp ignores `expert_weights_norm` for them).
///
/// Every step follows llama.cpp's float operations, so the weights are bit-identical to its:
/// the F32 router product in its one-row or tiled order (`ReferenceFloatDot`), softmax with its
/// vector e^x on whole 16-value groups and `expf` on the rest, sums in double, the sum of the
/// selected weights clamped at 2^-14 before dividing.
struct ExpertRouter {
  let experts: Int
  let used: Int
  let width: Int
  let weights: [Float]  // [experts, width]
  let normalizes: Bool
  /// Whether llama.cpp's tiled F32 kernel can take this matrix (it needs whole 16-float vectors
  /// and expert counts divisible by 4; otherwise every row goes through the one-row product).
  var tiles: Bool { width % 16 == 0 && experts % 4 == 0 }

  /// Routes the token `x` ([width]) into `selected` and `gates` ([used] each, most probable first).
  /// `batched`: llama.cpp multiplied this row together with others (see `MixtureOfExperts`).
  /// `probabilities` is scratch of `experts` floats.
  func route(
    _ x: UnsafePointer<Float>, batched: Bool, probabilities p: UnsafeMutablePointer<Float>,
    selected: UnsafeMutablePointer<Int32>, gates: UnsafeMutablePointer<Float>
  ) {
    let tiled = batched && tiles
    weights.withUnsafeBufferPointer { w in
      for e in 0..<experts {
        let row = w.baseAddress! + e * width
        p[e] = tiled ? ReferenceFloatDot.tiled(row, x, width) : ReferenceFloatDot.oneRow(row, x, width)
      }
    }
    ExpertRouter.softmax(p, experts)
    // Descending probability; ties keep the lower index first.
    for k in 0..<used {
      var best = -1
      for e in 0..<experts {
        if (0..<k).contains(where: { selected[$0] == Int32(e) }) { continue }
        if best < 0 || p[e] > p[best] { best = e }
      }
      selected[k] = Int32(best)
      gates[k] = p[best]
    }
    if normalizes {
      var sum: Double = 0
      for k in 0..<used { sum += Double(gates[k]) }
      let total = max(Float(sum), 6.103515625e-5)
      for k in 0..<used { gates[k] = gates[k] / total }
    }
  }

  /// `ggml_soft_max` of one row without mask or scale, on the AVX-512 build: e^(x − max) through
  /// the vector exponential for each whole group of 16 (its sum reduced like
  /// `_mm512_reduce_add_ps`), `expf` for the rest, the sum accumulated in double, then every value
  /// times the float of 1 / sum.
  static func softmax(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    var maxValue = -Float.infinity
    for i in 0..<n { maxValue = max(maxValue, x[i]) }
    var sum: Double = 0
    var i = 0
    while i + 15 < n {
      var v = SIMD16<Float>()
      for j in 0..<16 {
        v[j] = expReference(x[i + j] - maxValue)
        x[i + j] = v[j]
      }
      sum += Double(ReferenceFloatDot.reduce(v))
      i += 16
    }
    while i < n {
      let v = expf(x[i] - maxValue)
      sum += Double(v)
      x[i] = v
      i += 1
    }
    let scale = Float(1.0 / sum)
    for j in 0..<n { x[j] *= scale }
  }
}
