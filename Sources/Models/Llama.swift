/// Llama (1, 2, 3.x) and the files that reuse its architecture name (Mistral 7B, Mistral Nemo,
/// Mixtral, SmolLM, DeepSeek-R1-Distill-Llama): `DecoderModel` with RoPE on adjacent pairs (the
/// GGUF converter permuted Q and K for it), plus what llama.cpp's llama graph reads when present:
/// - `rope_freqs.weight`: Llama 3.1+'s per-frequency divisors (its long-context RoPE), and the
///   generic `rope.scaling.*` metadata (linear, YaRN);
/// - `attention.key_length` different from d / heads (Mistral Nemo: 128 with d / heads = 160);
/// - an untied `output.weight`, or the embedding as output head when there is none;
/// - `attn_output.bias` and `ffn_{gate,up,down}.bias`;
/// - `expert_count` > 0: mixture-of-experts layers (Mixtral; `ffn_gate_inp`, `ffn_*_exps`),
///   softmax gating with normalized weights.
enum Llama {
  static let traits = DecoderTraits(
    architecture: "llama", neoxRope: false, headNorms: false, ropeFrequencyFactors: true,
    outputAndFeedForwardBiases: true, experts: .optional)
}
