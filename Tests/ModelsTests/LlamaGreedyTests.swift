import GGUF
import Models
import TestSupport
import Testing

/// SmolLM2 against llama.cpp: same prompt ids must give the same greedy continuation, and the
/// first steps' top-10 log-probabilities must agree within 0.02.
@Suite("SmolLM2 greedy vs llama.cpp", .serialized)
struct LlamaGreedyTests {
  static let fixture = try! loadFixture("greedy_smollm2.json", as: GreedyFixture.self)

  @Test("greedy continuation and logprobs", arguments: 0..<6)
  func greedy(_ index: Int) throws {
    let entry = Self.fixture.entries[index]
    let model = try TestModels.model("smollm2-135m")
    let state = model.makeState(maxTokens: 256)
    var logits = try model.forward(entry.prompt_ids_with_bos_as_server_adds, state: state, logits: .last)
    var generated: [Int32] = []
    for step in 0..<entry.generated_ids.count {
      let row = logits.row(0)
      let lp = logSoftmax(row)
      let next = Int32(row.indices.max { row[$0] < row[$1] }! - row.startIndex)
      if step < entry.top10_per_step.count {
        for top in entry.top10_per_step[step].top_logprobs {
          let ours = lp[Int(top.id)]
          #expect(abs(ours - top.logprob) < 0.02, "step \(step) token \(top.id): \(ours) vs \(top.logprob)")
        }
      }
      generated.append(next)
      logits = try model.forward([next], state: state, logits: .last)
    }
    #expect(generated == entry.generated_ids, "prompt: \(entry.prompt)")
  }
}
