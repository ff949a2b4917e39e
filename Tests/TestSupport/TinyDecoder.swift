import Foundation
import GGUF
import Kernels

/// Small llama-family GGUFs (llama, qwen2, qwen3, qwen3moe) with random weights, written by the
/// tests, so each architecture's loading, errors and batching can be checked without the generated
/// models: matrices Q8_0 (the types the transplanted models use) or `matrixType`, norms F32 near 1,
/// biases, Q/K norms, rope_freqs, experts and an F32 router as the architecture has them.
public struct TinyDecoder: Sendable {
  public var architecture = "qwen3moe"
  public var vocabulary = 96
  public var embedding = 64
  public var layers = 2
  public var heads = 4
  public var kvHeads = 2
  /// key_length = value_length; may differ from embedding / heads.
  public var headDim = 32
  public var feedForward = 96
  public var experts = 8
  public var expertsUsed = 2
  public var context = 256
  /// Extra metadata (e.g. `rope.scaling.*`), keys without the architecture prefix.
  public var extra: [(String, GGUFValue)] = []
  /// Tensors to leave out (to provoke missing-tensor errors).
  public var omit: Set<String> = []
  /// The type of every matrix (K-quants need widths that are multiples of 256).
  public var matrixType: GGMLType = .q8_0

  public init(architecture: String = "qwen3moe") { self.architecture = architecture }

  public var hasExperts: Bool { architecture == "qwen3moe" || (architecture == "llama" && experts > 0) }

  /// The file's bytes; weights drawn from `seed`.
  public func bytes(seed: UInt64 = 11) throws -> [UInt8] {
    var rng = SplitMix64(seed: seed)
    func floats(_ n: Int, scale: Float, around center: Float = 0) -> [Float] {
      (0..<n).map { _ in center + (Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1) * scale }
    }
    func f32(_ values: [Float]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
    let d = embedding
    let p = architecture + "."
    var w = GGUFWriter()
    w.set("general.architecture", .string(architecture))
    w.set("general.name", .string("tiny-\(architecture)"))
    w.set(p + "embedding_length", .uint32(UInt32(d)))
    w.set(p + "block_count", .uint32(UInt32(layers)))
    w.set(p + "attention.head_count", .uint32(UInt32(heads)))
    w.set(p + "attention.head_count_kv", .uint32(UInt32(kvHeads)))
    w.set(p + "attention.key_length", .uint32(UInt32(headDim)))
    w.set(p + "attention.value_length", .uint32(UInt32(headDim)))
    w.set(p + "feed_forward_length", .uint32(UInt32(feedForward)))
    w.set(p + "context_length", .uint32(UInt32(context)))
    w.set(p + "rope.freq_base", .float32(10000))
    w.set(p + "attention.layer_norm_rms_epsilon", .float32(1e-6))
    if hasExperts {
      w.set(p + "expert_count", .uint32(UInt32(experts)))
      w.set(p + "expert_used_count", .uint32(UInt32(expertsUsed)))
      w.set(p + "expert_feed_forward_length", .uint32(UInt32(feedForward)))
    }
    for (key, value) in extra { w.set(p + key, value) }

    func add(_ name: String, _ shape: [Int], _ values: [Float], quantized: Bool) throws {
      if omit.contains(name) { return }
      if quantized {
        try w.addTensor(name: name, type: matrixType, shape: shape, data: quantizeMatrix(matrixType, values, cols: shape[0]))
      } else {
        try w.addTensor(name: name, type: .f32, shape: shape, data: f32(values))
      }
    }
    let qDim = heads * headDim
    let kvDim = kvHeads * headDim
    let ff = feedForward
    try add("token_embd.weight", [d, vocabulary], floats(d * vocabulary, scale: 1), quantized: true)
    for l in 0..<layers {
      let b = "blk.\(l)."
      try add(b + "attn_norm.weight", [d], floats(d, scale: 0.1, around: 1), quantized: false)
      try add(b + "attn_q.weight", [d, qDim], floats(d * qDim, scale: 0.2), quantized: true)
      try add(b + "attn_k.weight", [d, kvDim], floats(d * kvDim, scale: 0.2), quantized: true)
      try add(b + "attn_v.weight", [d, kvDim], floats(d * kvDim, scale: 0.2), quantized: true)
      try add(b + "attn_output.weight", [qDim, d], floats(d * qDim, scale: 0.2), quantized: true)
      if architecture == "qwen2" {
        try add(b + "attn_q.bias", [qDim], floats(qDim, scale: 0.3), quantized: false)
        try add(b + "attn_k.bias", [kvDim], floats(kvDim, scale: 0.3), quantized: false)
        try add(b + "attn_v.bias", [kvDim], floats(kvDim, scale: 0.3), quantized: false)
      }
      if architecture.hasPrefix("qwen3") {
        try add(b + "attn_q_norm.weight", [headDim], floats(headDim, scale: 0.1, around: 1), quantized: false)
        try add(b + "attn_k_norm.weight", [headDim], floats(headDim, scale: 0.1, around: 1), quantized: false)
      }
      try add(b + "ffn_norm.weight", [d], floats(d, scale: 0.1, around: 1), quantized: false)
      if hasExperts {
        try add(b + "ffn_gate_inp.weight", [d, experts], floats(d * experts, scale: 0.5), quantized: false)
        try add(b + "ffn_gate_exps.weight", [d, ff, experts], floats(d * ff * experts, scale: 0.2), quantized: true)
        try add(b + "ffn_up_exps.weight", [d, ff, experts], floats(d * ff * experts, scale: 0.2), quantized: true)
        try add(b + "ffn_down_exps.weight", [ff, d, experts], floats(d * ff * experts, scale: 0.2), quantized: true)
      } else {
        try add(b + "ffn_gate.weight", [d, ff], floats(d * ff, scale: 0.2), quantized: true)
        try add(b + "ffn_up.weight", [d, ff], floats(d * ff, scale: 0.2), quantized: true)
        try add(b + "ffn_down.weight", [ff, d], floats(d * ff, scale: 0.2), quantized: true)
      }
    }
    try add("output_norm.weight", [d], floats(d, scale: 0.1, around: 1), quantized: false)
    if architecture == "llama" {
      try add("output.weight", [d, vocabulary], floats(d * vocabulary, scale: 0.5), quantized: true)
      try add("rope_freqs.weight", [headDim / 2], floats(headDim / 2, scale: 3, around: 4), quantized: false)
    }
    return w.serialize()
  }
}
