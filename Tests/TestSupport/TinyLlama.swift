import Foundation
import GGUF

/// A small llama-architecture GGUF with random weights, written by the tests themselves, so model
/// code can be exercised without a download.
public enum TinyLlama {
  public struct Shape: Sendable {
    public var vocabulary = 96
    public var embedding = 64
    public var layers = 2
    public var heads = 4
    public var kvHeads = 2
    public var feedForward = 96
    public var context = 256

    public init() {}
  }

  /// The file's bytes; weights are F32 drawn from `seed`.
  public static func bytes(_ s: Shape = Shape(), seed: UInt64 = 7) throws -> [UInt8] {
    var rng = SplitMix64(seed: seed)
    func random(_ n: Int, scale: Float) -> [UInt8] {
      var values = [Float](repeating: 0, count: n)
      for i in 0..<n { values[i] = (Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1) * scale }
      return values.withUnsafeBytes { Array($0) }
    }
    func ones(_ n: Int) -> [UInt8] { [Float](repeating: 1, count: n).withUnsafeBytes { Array($0) } }
    let d = s.embedding
    let hd = d / s.heads
    var w = GGUFWriter()
    w.set("general.architecture", .string("llama"))
    w.set("general.name", .string("tiny-llama"))
    w.set("llama.embedding_length", .uint32(UInt32(d)))
    w.set("llama.block_count", .uint32(UInt32(s.layers)))
    w.set("llama.attention.head_count", .uint32(UInt32(s.heads)))
    w.set("llama.attention.head_count_kv", .uint32(UInt32(s.kvHeads)))
    w.set("llama.feed_forward_length", .uint32(UInt32(s.feedForward)))
    w.set("llama.context_length", .uint32(UInt32(s.context)))
    w.set("llama.rope.freq_base", .float32(10000))
    w.set("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
    let scale = 1 / Float(d).squareRoot()
    try w.addTensor(name: "token_embd.weight", type: .f32, shape: [d, s.vocabulary], data: random(d * s.vocabulary, scale: 1))
    for l in 0..<s.layers {
      let p = "blk.\(l)."
      try w.addTensor(name: p + "attn_norm.weight", type: .f32, shape: [d], data: ones(d))
      try w.addTensor(name: p + "attn_q.weight", type: .f32, shape: [d, s.heads * hd], data: random(d * s.heads * hd, scale: scale))
      try w.addTensor(name: p + "attn_k.weight", type: .f32, shape: [d, s.kvHeads * hd], data: random(d * s.kvHeads * hd, scale: scale))
      try w.addTensor(name: p + "attn_v.weight", type: .f32, shape: [d, s.kvHeads * hd], data: random(d * s.kvHeads * hd, scale: scale))
      try w.addTensor(name: p + "attn_output.weight", type: .f32, shape: [s.heads * hd, d], data: random(d * s.heads * hd, scale: scale))
      try w.addTensor(name: p + "ffn_norm.weight", type: .f32, shape: [d], data: ones(d))
      try w.addTensor(name: p + "ffn_gate.weight", type: .f32, shape: [d, s.feedForward], data: random(d * s.feedForward, scale: scale))
      try w.addTensor(name: p + "ffn_up.weight", type: .f32, shape: [d, s.feedForward], data: random(d * s.feedForward, scale: scale))
      try w.addTensor(name: p + "ffn_down.weight", type: .f32, shape: [s.feedForward, d], data: random(d * s.feedForward, scale: 1 / Float(s.feedForward).squareRoot()))
    }
    try w.addTensor(name: "output_norm.weight", type: .f32, shape: [d], data: ones(d))
    return w.serialize()
  }
}
