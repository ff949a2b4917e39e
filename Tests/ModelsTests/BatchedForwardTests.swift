import Foundation
import Models
import TestSupport
import Testing

/// A batch of several sequences with scattered block tables must give each sequence the logits it
/// gets when run alone: batching is an optimisation, never a change in results.
@Suite("Batched forward on SmolLM2")
struct BatchedForwardTests {
  @Test func batchOfScatteredSequencesMatchesSeparateRuns() throws {
    let model = try TestModels.model("smollm2-135m")
    let prompts: [[Int32]] = [
      [1, 504, 3458, 282, 4649, 314],
      [1, 9690, 28, 1303, 7052, 314, 253, 1345, 30, 2],
      [1, 27, 14],
    ]
    // Alone, through the single-sequence path.
    var alone: [[Float]] = []
    for p in prompts {
      let state = model.makeState(maxTokens: 64)
      alone.append(Array(try model.forward(p, state: state, logits: .last).row(0)))
    }
    // Together, with each sequence's blocks interleaved with the others' in a shared cache. The
    // block size is the single-sequence state's: attention's online softmax works block by block,
    // so only equal block sizes promise bit-identical sums (the engine and ModelState share 16).
    let layout = model.kvLayout
    let bs = ModelState.blockSize
    let cache = PagedKVCache(layers: layout.layers, kvDim: layout.kvDim, blockSize: bs, blockCount: 16)
    let tables: [[Int32]] = [[7], [0, 9], [5]]
    var batch = ForwardBatch()
    for (p, table) in zip(prompts, tables) {
      batch.append(p, startPosition: 0, blockTable: table, logits: .last)
    }
    let together = try model.forward(batch, cache: cache, scratch: ScratchArena())
    #expect(together.rows == prompts.count)
    #expect(prompts.map(\.count).max()! + 1 <= bs, "tables above hold one block per prompt")
    for i in prompts.indices {
      let gap = zip(together.row(i), alone[i]).map { abs($0 - $1) }.max() ?? .infinity
      #expect(gap < 1e-3, "sequence \(i): max logit difference \(gap)")
    }
    // A decode step for all three continues each sequence where it stopped.
    var step = ForwardBatch()
    for (i, p) in prompts.enumerated() {
      step.append([42], startPosition: p.count, blockTable: tables[i], logits: .last)
    }
    let next = try model.forward(step, cache: cache, scratch: ScratchArena())
    for (i, p) in prompts.enumerated() {
      let state = model.makeState(maxTokens: 64)
      let ref = try model.forward(p + [42], state: state, logits: .last)
      let gap = zip(next.row(i), ref.row(0)).map { abs($0 - $1) }.max() ?? .infinity
      #expect(gap < 1e-3, "sequence \(i) decode: max logit difference \(gap)")
    }
  }

  @Test func badBlockTableIsAnErrorNotACrash() throws {
    let model = try TestModels.model("smollm2-135m")
    let layout = model.kvLayout
    let cache = PagedKVCache(layers: layout.layers, kvDim: layout.kvDim, blockSize: 4, blockCount: 2)
    var batch = ForwardBatch()
    batch.append([1, 2, 3, 4, 5], startPosition: 0, blockTable: [0], logits: .last)
    #expect(throws: ModelError.self) { try model.forward(batch, cache: cache, scratch: ScratchArena()) }
    var outside = ForwardBatch()
    outside.append([1, 2], startPosition: 0, blockTable: [5], logits: .last)
    #expect(throws: ModelError.self) { try model.forward(outside, cache: cache, scratch: ScratchArena()) }
  }
}

/// Prompt positions attend through tiles of rows (`attendRows`); how a prompt is cut into forward
/// calls changes the tiles but must not change a bit of the logits.
@Suite("Tiled prompt attention in the model")
struct TiledPromptAttentionTests {
  @Test(arguments: ["smollm2-135m", "gemma3-270m"])
  func chunkingAPromptChangesNoBits(name: String) throws {
    let model = try TestModels.model(name)
    let prompt: [Int32] = [2] + (0..<99).map { Int32(400 + ($0 * 53) % 1700) }
    let whole = model.makeState(maxTokens: 128)
    let one = Array(try model.forward(prompt, state: whole, logits: .last).row(0))
    // The same prompt in uneven calls: the first fixes the prompt length for the state, so give the
    // state the whole prompt's length through a reuse of nothing, then run pieces of 1, 7 and the rest.
    let pieces = model.makeState(maxTokens: 128)
    var at = 0
    var last: [Float] = []
    for size in [37, 1, 7, prompt.count - 45] {
      let chunk = Array(prompt[at..<(at + size)])
      if at == 0 {
        // Position 0 sets the prompt length from the call: run the whole prompt once, rewind, rerun.
        _ = try model.forward(prompt, state: pieces, logits: .last)
        _ = model.reusePrefix(of: pieces, common: size, promptLength: prompt.count)
      } else {
        last = Array(try model.forward(chunk, state: pieces, logits: .last).row(0))
      }
      at += size
    }
    #expect(last.map(\.bitPattern) == one.map(\.bitPattern), "\(name): chunked prompt's logits differ")
  }
}
