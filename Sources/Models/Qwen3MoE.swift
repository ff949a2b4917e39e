/// Qwen3 mixture-of-experts (Qwen3-30B-A3B, 235B-A22B): Qwen3's attention (per-head Q/K RMSNorm,
/// NEOX RoPE) and in every layer a `MixtureOfExperts` feed-forward block: an F32 router
/// (`ffn_gate_inp`), softmax over all experts, the `expert_used_count` most probable with their
/// probabilities renormalized to sum 1 (llama.cpp always normalizes for this architecture, whatever
/// `expert_weights_norm` says), experts of `expert_feed_forward_length` from the 3-D tensors
/// `ffn_{gate,up,down}_exps`.
enum Qwen3MoE {
  static let traits = DecoderTraits(
    architecture: "qwen3moe", neoxRope: true, headNorms: true, ropeFrequencyFactors: false,
    outputAndFeedForwardBiases: false, experts: .always)
}
