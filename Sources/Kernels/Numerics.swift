/// Which float summation order a model's kernels follow.
///
/// Quantized products and attention can add the same terms in different orders; the results differ in
/// the last bits, and on models with large activation outliers (SmolLM2) a last-bit difference can
/// flip an 8-bit activation rounding downstream and change a greedy continuation. Either order gives
/// results that never depend on how many sequences or tokens share a step.
public enum Numerics: String, Sendable, CaseIterable, Codable {
  /// llama.cpp's CPU order, operation for operation where it is implemented (every SmolLM2 kernel):
  /// outputs equal llama.cpp's bit for bit. Q4_1 keeps a block's eight partial sums in separate float
  /// lanes and decode steps attend with f16 accumulators, as llama.cpp does.
  case exact
  /// The fastest order each kernel has: Q4_1 adds a block's partial sums in integers and scales them
  /// once (half the float work of `exact` on batched steps), and attention always accumulates in f32.
  /// Outputs differ from llama.cpp's in low bits (perplexity within 0.1 %).
  case fast
}
