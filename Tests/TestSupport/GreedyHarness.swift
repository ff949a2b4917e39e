import Models

/// Runs one `greedy_*.json` entry from its prompt ids (no tokenizer involved) and measures how
/// closely a model follows llama.cpp.
public enum GreedyHarness {
  public struct Outcome {
    /// Generated tokens equal to llama.cpp's before the first difference.
    public var prefix: Int
    /// Largest |our log-prob − llama.cpp's| over the top-10 ids of the first steps, counted only
    /// while our greedy path still equals llama.cpp's (after a split the contexts differ).
    public var worstGap: Double
    /// Largest |our log-prob − llama.cpp's| of the token llama.cpp chose, over the same steps.
    public var chosenGap: Double
    /// How many of our logits beat the one of llama.cpp's first token (0 = we agree).
    public var referenceTopRank: Int
    public var generated: [Int32]
  }

  public static func run(_ model: any LanguageModel, _ entry: GreedyFixture.Entry) throws -> Outcome {
    let state = model.makeState(maxTokens: entry.prompt_ids_with_bos_as_server_adds.count + entry.generated_ids.count + 1)
    var logits = try model.forward(entry.prompt_ids_with_bos_as_server_adds, state: state, logits: .last)
    var generated: [Int32] = []
    var worst = 0.0
    var chosen = 0.0
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
        let pick = entry.top10_per_step[step]
        chosen = max(chosen, abs(lp[Int(pick.id)] - pick.logprob))
      }
      generated.append(next)
      if step + 1 < entry.generated_ids.count { logits = try model.forward([next], state: state, logits: .last) }
    }
    let prefix = zip(generated, entry.generated_ids).prefix { $0 == $1 }.count
    return Outcome(prefix: prefix, worstGap: worst, chosenGap: chosen, referenceTopRank: rank, generated: generated)
  }
}
