import GGUF
import Models
import TestSupport
import Testing

/// Gemma 3 270M (Q4_K_M: Q5_0, Q4_K, Q6_K, Q8_0 weights) against llama.cpp on the same prompt ids.
///
/// Peregrine follows llama.cpp's arithmetic operation for operation (attention, norms, RoPE, GELU and
/// each weight type's matrix-product order, including which order llama-server's batching gives a
/// prompt position; docs/correctness.md), so the runs agree bit for bit and the log-prob gaps are the
/// fixture's own rounding. A single differing ulp grows to tenths of a nat downstream, so any slip
/// in the arithmetic shows here.
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
      // Measured: every prompt 32/32, worst top-10 gaps 1.3e-4–4.2e-4 (the fixture's rounding).
      #expect(o.referenceTopRank == 0, "prompt \(i)")
      #expect(o.prefix == entry.generated_ids.count, "prompt \(i)")
      #expect(o.chosenGap < 0.02, "prompt \(i)")
      #expect(o.worstGap < 0.02, "prompt \(i)")
    }
    #expect(outcomes.count == 6)
  }
}
