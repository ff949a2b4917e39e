/// Qwen3 (dense): `DecoderModel` without biases, with an RMSNorm of every query and key head
/// (`attn_q_norm`, `attn_k_norm`, one weight per head position, the layer's epsilon) after the
/// projections and before NEOX RoPE. The head size comes from `attention.key_length` and usually
/// differs from d / heads (0.6B: 128 against 1,024 / 16). YaRN metadata, when a file carries it,
/// scales RoPE as llama.cpp does.
enum Qwen3 {
  static let traits = DecoderTraits(
    architecture: "qwen3", neoxRope: true, headNorms: true, ropeFrequencyFactors: false,
    outputAndFeedForwardBiases: false, experts: .never)
}
