import Engine
import Foundation
import Models
import TestSupport
import Testing
import Tokenizers

/// The engine on the real Gemma 3, whose local layers keep only their 512-token window in a pool of
/// their own: prompts longer than the window, run concurrently (prefix reuse, forced preemption, a
/// window pool too small for all of them, speculation), must generate exactly what each generates
/// alone through `Generator` (whose single-sequence state keeps every position of every layer).
@Suite("Inference engine on Gemma 3 with a window pool", .serialized)
struct InferenceEngineWindowTests {
  static let text =
    "The river wound through the valley, past the mill and the old stone bridge, where the children "
    + "counted boats on summer evenings and the miller's dog slept in the shade. "

  func tokenizer() throws -> Tokenizer {
    try Tokenizer(vocabulary: TokenizerVocabulary(metadata: TestModels.file("gemma3-270m").metadata))
  }

  /// Four prompts of 700–1,000 tokens (the window is 512); the last extends the first, so its
  /// first ~700 tokens come from the prefix cache.
  func prompts() throws -> [[Int32]] {
    let tok = try tokenizer()
    let heads = ["Story one.", "A second tale, told differently.", "Chapter three: the flood."]
    var out: [[Int32]] = []
    for (i, head) in heads.enumerated() {
      var ids = tok.encode(head + " ", addSpecial: true, parseSpecial: true)
      let body = tok.encode(Self.text, addSpecial: false, parseSpecial: false)
      while ids.count < 700 + 130 * i { ids += body }
      out.append(ids)
    }
    out.append(out[0] + tok.encode(" Then the rain came, and nobody", addSpecial: false, parseSpecial: false))
    return out
  }

  nonisolated(unsafe) static var alone: [[Int32]]? = nil

  func aloneOutputs(_ prompts: [[Int32]], maxTokens: Int) throws -> [[Int32]] {
    if let known = Self.alone { return known }
    let g = Generator(model: try TestModels.model("gemma3-270m"), tokenizer: try tokenizer())
    var options = GenerationOptions()
    options.maxTokens = maxTokens
    options.sampling = .greedy
    options.stopAtEndOfGeneration = false
    let out = try prompts.map { try g.generate(promptIDs: $0, options: options).generatedIDs }
    Self.alone = out
    return out
  }

  @Test(arguments: ["batched", "forced preemption", "small window pool", "speculation"])
  func longPromptsEqualEachAlone(mode: String) async throws {
    let prompts = try prompts()
    #expect(prompts.allSatisfy { $0.count > 600 } && prompts.map(\.count).max()! < 1100)
    let maxTokens = 8
    let expected = try aloneOutputs(prompts, maxTokens: maxTokens)
    let windowBytes = PagedKVCache.bytesPerBlock(layers: 15, kvDim: 256, blockSize: 16)
    var c = EngineConfiguration()
    c.kvCacheBytes = 256 << 20
    switch mode {
    case "forced preemption": c.preemptEverySteps = 3
    case "small window pool":
      // Half the budget is 60 window blocks: room for one sequence's window and chunk (49) but not
      // for four windows, so window-pool pressure preempts.
      c.kvCacheBytes = 120 * windowBytes
    case "speculation": c.speculation = EngineSpeculation(method: .ngram, draftTokens: 3)
    default: break
    }
    let engine = try InferenceEngine(
      model: try TestModels.model("gemma3-270m"), tokenizer: try tokenizer(), configuration: c)
    let initial = engine.statistics()
    #expect(initial.kvWindowBlocksTotal > 0, "Gemma's local layers get a pool of their own")
    if mode == "small window pool" { #expect(initial.kvWindowBlocksTotal == 60) }

    // The last prompt extends the first: run the first alone first so its blocks are cached.
    let first = try await InferenceEngineTests().runConcurrently(engine, [prompts[0]], maxTokens: maxTokens)
    #expect(first[0].0.map(\.id) == expected[0], "\(mode): prompt 0 alone")
    let results = try await InferenceEngineTests().runConcurrently(engine, prompts, maxTokens: maxTokens)
    for (i, r) in results.enumerated() {
      #expect(r.0.map(\.id) == expected[i], "\(mode): prompt \(i) (\(prompts[i].count) tokens)")
    }
    let stats = await InferenceEngineTests.waitUntilIdle(engine)
    #expect(stats.kvBlocksUsed == 0 && stats.kvWindowBlocksUsed == 0)
    #expect(stats.prefixHitTokens >= 640, "\(mode): the shared ~700-token prefix is reused (\(stats.prefixHitTokens))")
    if mode == "forced preemption" || mode == "small window pool" { #expect(stats.preemptionsTotal > 0) }
    // After a step each sequence holds at most ⌈511/16⌉ + 1 = 33 window blocks (plus kept drafts'
    // block), far fewer than the ⌈length/16⌉ ≥ 44 of its whole history.
    #expect(stats.kvWindowBlocksPeak > 0)
    #expect(stats.kvWindowBlocksPeak <= 4 * 34, "\(mode): window pool peak \(stats.kvWindowBlocksPeak)")
  }
}
