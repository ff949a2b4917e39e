import GGUF
import Models
import TestSupport
import Testing

/// SmolLM2 against llama.cpp on the same prompt ids.
///
/// Why the bounds are loose: this model carries large activation outliers, so rounding activations
/// to Q8 (as llama.cpp and Peregrine both do) moves its log-probabilities by ~0.1 nat, and so does
/// accumulating attention in f16. Agreement to 0.02 would need llama.cpp's arithmetic bit for bit.
/// The average behaviour is checked tightly by the perplexity test (within 1 % of llama.cpp).
@Suite("SmolLM2 greedy vs llama.cpp", .serialized)
struct LlamaGreedyTests {
  struct Outcome {
    var prefix: Int
    var worstGap: Double
    var referenceTopRank: Int
  }

  func run(_ entry: GreedyFixture.Entry) throws -> Outcome {
    let model = try TestModels.model("smollm2-135m")
    let state = model.makeState(maxTokens: 256)
    var logits = try model.forward(entry.prompt_ids_with_bos_as_server_adds, state: state, logits: .last)
    var generated: [Int32] = []
    var worst = 0.0
    var rank = 0
    for step in 0..<entry.generated_ids.count {
      let row = logits.row(0)
      let next = Int32(row.indices.max { row[$0] < row[$1] }! - row.startIndex)
      if step == 0 {
        let reference = row[row.startIndex + Int(entry.generated_ids[0])]
        rank = row.filter { $0 > reference }.count
      }
      if step < entry.top10_per_step.count && generated == Array(entry.generated_ids.prefix(step)) {
        let lp = logSoftmax(row)
        for top in entry.top10_per_step[step].top_logprobs {
          worst = max(worst, abs(lp[Int(top.id)] - top.logprob))
        }
      }
      generated.append(next)
      logits = try model.forward([next], state: state, logits: .last)
    }
    let prefix = zip(generated, entry.generated_ids).prefix { $0 == $1 }.count
    return Outcome(prefix: prefix, worstGap: worst, referenceTopRank: rank)
  }

  @Test("greedy continuations and top-10 log-probabilities stay close to llama.cpp")
  func greedy() throws {
    let fixture = try loadFixture("greedy_smollm2.json", as: GreedyFixture.self)
    var outcomes: [Outcome] = []
    for (i, entry) in fixture.entries.enumerated() {
      let o = try run(entry)
      print("prompt \(i): greedy prefix \(o.prefix)/\(entry.generated_ids.count), worst top-10 gap \(o.worstGap), llama.cpp's first token ranks \(o.referenceTopRank)")
      outcomes.append(o)
      // llama.cpp's first token is one of our top two, and its top-10 log-probs are near ours.
      #expect(o.referenceTopRank <= 1, "prompt \(i)")
      #expect(o.worstGap < 0.6, "prompt \(i)")
    }
    #expect(outcomes.filter { $0.prefix >= 4 }.count >= 5)
    #expect(outcomes.map(\.prefix).reduce(0, +) >= 40)
  }
}
