/// Which float summation order a model's kernels follow.
///
/// Quantized products and attention can add the same terms in different orders; the results differ in
/// the last bits, and on models with large activation outliers (SmolLM2) a last-bit difference can
/// flip an 8-bit activation rounding downstream and change a greedy continuation. Either order gives
/// results that never depend on how many sequences or tokens share a step.
public enum Numerics: String, Sendable, CaseIterable, Codable {
  /// llama.cpp's CPU order, operation for operation where it is implemented (every SmolLM2 kernel,
  /// Gemma 3's quantized products): outputs equal llama.cpp's bit for bit. Q4_1, Q8_0 and Q5_0 keep a
  /// block's eight partial sums in separate float lanes, Q4_K / Q6_K follow llama.cpp's one-row or
  /// batched kernel by position (`BatchSlice.referenceBatched`), and decode steps attend with f16
  /// accumulators, as llama.cpp does.
  case exact
  /// The fastest order each kernel has: Q4_1, Q8_0 and Q5_0 add a block's partial sums in integers and
  /// scale them once, Q4_K and Q6_K a super-block's (half the float work of `exact` or less on batched
  /// steps), and attention always accumulates in f32.
  /// Outputs differ from llama.cpp's in low bits (perplexity within 0.1 %).
  case fast
}
