/// Qwen2 and Qwen2.5 (and DeepSeek-R1-Distill-Qwen, which uses this architecture name):
/// `DecoderModel` with Q/K/V biases (`attn_{q,k,v}.bias`, added after each product as llama.cpp
/// does), RoPE on the NEOX pairs (x[i], x[i + d/2]) of unpermuted rows, an output head tied to the
/// embedding (the small models) or `output.weight` (7B and up), and an optional `output.bias`.
enum Qwen2 {
  static let traits = DecoderTraits(
    architecture: "qwen2", neoxRope: true, headNorms: false, ropeFrequencyFactors: false,
    outputAndFeedForwardBiases: false, experts: .never)
}
