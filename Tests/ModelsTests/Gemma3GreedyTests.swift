import GGUF
import Models
import TestSupport
import Testing

/// Gemma 3 270M (Q4_K_M: Q5_0, Q4_K, Q6_K, Q8_0 weights) against llama.cpp on the same prompt ids.
///
/// Why the log-prob bounds are far from the 0.02: Gemma's residual stream is large (√d-scaled
/// embeddings, norm weights up to ~280), so rounding activations to 8 bits moves its log-probs by
/// ~0.1–0.2 nat. A float64 NumPy forward pass (tools/gemma3_oracle.py) differs from llama.cpp by up to
/// 0.20 nat on prompt 0's first-step top 10, and from us by about as much, so 0.02 would need
/// llama.cpp's arithmetic bit for bit, which SmolLM2 now has (LlamaGreedyTests) and Gemma has for
/// attention, norms, RoPE and GELU but not yet for its Q5_0/Q4_K/Q6_K/Q8_0 matrix products (a one-ulp
/// difference there flips 8-bit activation roundings downstream). Perplexity (within 1 %) checks the
/// average behaviour.
@Suite("Gemma 3 greedy vs llama.cpp", .serialized)
struct Gemma3GreedyTests {
  @Test("greedy continuations and top-10 log-probabilities stay close to llama.cpp")
  func greedy() throws {
    let fixture = try loadFixture("greedy_gemma3.json", as: GreedyFixture.self)
    let model = try TestModels.model("gemma3-270m")
    #expect(model.info.architecture == "gemma3")
    var outcomes: [GreedyHarness.Outcome] = []
    for (i, entry) in fixture.entries.enumerated() {
      let o = try GreedyHarness.run(model, entry)
      print(
        "gemma3 prompt \(i): greedy prefix \(o.prefix)/\(entry.generated_ids.count), worst top-10 gap \(o.worstGap), chosen-token gap \(o.chosenGap), llama.cpp's first token ranks \(o.referenceTopRank)"
      )
      outcomes.append(o)
      // Measured: worst top-10 gaps 0.38–0.84 (the tail of the top 10; 0.25–0.67 before the online-softmax
      // attention kernel regrouped the sums), chosen-token gaps 0.06–0.29, first token always ours.
      // llama.cpp's own flash-attention on/off gap is 0.3–0.4 nat on SmolLM2 (docs/correctness.md).
      #expect(o.referenceTopRank == 0, "prompt \(i)")
      #expect(o.chosenGap < 0.3, "prompt \(i)")
      #expect(o.worstGap < 1.0, "prompt \(i)")
    }
    // Measured: 32, 32, 25, 32, 3, 32 with attention, RMSNorm, RoPE and the f16 GELU table following
    // llama.cpp's arithmetic and the packed SIMD K-quant kernels (32, 32, 27, 32, 2, 32 with the Swift
    // K-quant dots). The K-quant and Q5_0 dot products still
    // sum in a different order (llama.cpp's repacked Q4_K/Q6_K/Q8_0 kernels and tinyBLAS Q5_0), so
    // near-ties can split; prompt 4 splits at a 0.09-nat near-tie in llama.cpp's own run.
    #expect(outcomes.filter { $0.prefix == 32 }.count >= 4)
    #expect(outcomes.map(\.prefix).reduce(0, +) >= 140)
  }
}
