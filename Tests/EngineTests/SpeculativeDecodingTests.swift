import Engine
import Foundation
import GGUF
import Kernels
import Models
import TestSupport
import Testing
import Tokenizers

/// Speculation must never change what the target produces: greedy output is identical, and sampled
/// output keeps the target's distribution.
@Suite("Speculative decoding", .serialized)
struct SpeculativeDecodingTests {
  func smol() throws -> Generator {
    Generator(model: try TestModels.model("smollm2-135m"), tokenizer: try Tokenizer(vocabulary: smolLM2Vocabulary()))
  }

  func greedy(_ g: Generator, _ prompt: [Int32], maxTokens: Int, speculation: SpeculationOptions?) throws -> GenerationResult {
    var o = GenerationOptions()
    o.maxTokens = maxTokens
    o.sampling = .greedy
    o.speculation = speculation
    return try g.generate(promptIDs: prompt, options: o)
  }

  @Test func greedyOutputsAreIdenticalWithBothProposers() throws {
    let fixture = try loadFixture("greedy_smollm2.json", as: GreedyFixture.self)
    let g = try smol()
    let draft = try TestModels.model("smollm2-135m")
    let grounded = g.tokenizer.encode(
      "Repeat the passage exactly.\nPassage: The committee met on Tuesday to review the budget, the hiring plan and the "
        + "new office lease. The budget was approved without changes.\nRepeat: The committee met on Tuesday",
      addSpecial: true, parseSpecial: true)
    let prompts = fixture.entries.prefix(3).map(\.prompt_ids_with_bos_as_server_adds) + [grounded]
    for (i, prompt) in prompts.enumerated() {
      let plain = try greedy(g, prompt, maxTokens: 48, speculation: nil)
      let ngram = try greedy(g, prompt, maxTokens: 48, speculation: SpeculationOptions(proposer: .ngram, draftTokens: 4))
      let drafted = try greedy(
        g, prompt, maxTokens: 48, speculation: SpeculationOptions(proposer: .draftModel(draft), draftTokens: 3, adaptive: false))
      // Adaptive: the policy's draft lengths, and prompt lookup's drafts where they promise more.
      let mixed = try greedy(g, prompt, maxTokens: 48, speculation: SpeculationOptions(proposer: .draftModel(draft), draftTokens: 3))
      #expect(ngram.generatedIDs == plain.generatedIDs, "prompt \(i), n-gram")
      #expect(drafted.generatedIDs == plain.generatedIDs, "prompt \(i), draft model")
      #expect(mixed.generatedIDs == plain.generatedIDs, "prompt \(i), draft model and prompt lookup")
      // The same model drafting for itself is always right.
      #expect(drafted.timings.acceptanceRate == 1, "prompt \(i): \(drafted.timings)")
      if i == prompts.count - 1 {
        #expect((ngram.timings.acceptedTokens ?? 0) > 10, "copying prompt should accept many drafts: \(ngram.timings)")
      }
    }
  }

  @Test func longGreedyGenerationIsIdentical() throws {
    let g = try smol()
    let prompt = g.tokenizer.encode("def add(a, b):\n    return a + b\n\ndef sub(a, b):\n", addSpecial: true, parseSpecial: true)
    let plain = try greedy(g, prompt, maxTokens: 200, speculation: nil)
    let ngram = try greedy(g, prompt, maxTokens: 200, speculation: SpeculationOptions(proposer: .ngram, draftTokens: 6))
    #expect(ngram.generatedIDs == plain.generatedIDs)
  }

  /// `run` and `serve` load the draft in the fast order whatever the target's: its proposals then
  /// differ from the target's choices now and then, which must only cost acceptance. Both the
  /// policy-chosen and a fixed draft length (a draft as large as the target rarely pays, so the
  /// policy may decode mostly plainly; the fixed length checks every proposal).
  @Test(arguments: [true, false])
  func fastOrderDraftKeepsExactGreedyOutputs(adaptive: Bool) throws {
    let g = try smol()
    let draft = try TestModels.model("smollm2-135m", numerics: .fast)
    let fixture = try loadFixture("greedy_smollm2.json", as: GreedyFixture.self)
    let code = g.tokenizer.encode("def add(a, b):\n    return a + b\n\ndef sub(a, b):\n", addSpecial: true, parseSpecial: true)
    let prompts = [code] + fixture.entries.prefix(2).map(\.prompt_ids_with_bos_as_server_adds)
    for (i, prompt) in prompts.enumerated() {
      let plain = try greedy(g, prompt, maxTokens: 120, speculation: nil)
      let drafted = try greedy(
        g, prompt, maxTokens: 120, speculation: SpeculationOptions(proposer: .draftModel(draft), draftTokens: 4, adaptive: adaptive))
      let ngram = try greedy(
        g, prompt, maxTokens: 120, speculation: SpeculationOptions(proposer: .ngram, draftTokens: 6, adaptive: adaptive))
      #expect(drafted.generatedIDs == plain.generatedIDs, "prompt \(i), draft model")
      #expect(ngram.generatedIDs == plain.generatedIDs, "prompt \(i), n-gram")
      if !adaptive && plain.generatedIDs.count > 20 {
        #expect((drafted.timings.acceptanceRate ?? 0) > 0.8, "prompt \(i): \(drafted.timings)")
      }
    }
  }

  @Test func draftModelWithAnotherVocabularyIsRejected() throws {
    let g = try smol()
    let tiny = try ModelRegistry.load(try GGUFFile(bytes: TinyLlama.bytes()), pool: ThreadPool(threadCount: 1))
    var o = GenerationOptions()
    o.speculation = SpeculationOptions(proposer: .draftModel(tiny))
    #expect(throws: GenerationError.self) { try g.generate(promptIDs: [1, 2, 3], options: o) }
  }

  // MARK: - Sampling keeps the target's distribution

  /// A tokenizer for TinyLlama's 96 ids (none of them ends generation).
  func tinyTokenizer() throws -> Tokenizer {
    try Tokenizer(vocabulary: TokenizerVocabulary(model: "gpt2", tokens: (0..<96).map { "t\($0)" }, tokenTypes: Array(repeating: 1, count: 96)))
  }

  /// Histogram of the tokens at generated positions 1...3 over many seeds.
  func histogram(_ g: Generator, speculation: SpeculationOptions?, runs: Int) throws -> [[Int]] {
    var counts = Array(repeating: Array(repeating: 0, count: 96), count: 3)
    for seed in 0..<runs {
      var o = GenerationOptions()
      o.maxTokens = 4
      o.stopAtEndOfGeneration = false
      o.sampling.temperature = 1
      o.sampling.topK = 6
      o.sampling.topP = 1
      o.sampling.minP = 0
      o.sampling.seed = UInt64(seed) &* 7919 &+ 13
      o.speculation = speculation
      let out = try g.generate(promptIDs: [5, 17, 42, 5, 17, 42, 5, 17], options: o).generatedIDs
      for pos in 1...3 { counts[pos - 1][Int(out[pos])] += 1 }
    }
    return counts
  }

  func totalVariation(_ a: [Int], _ b: [Int]) -> Double {
    let na = Double(a.reduce(0, +)), nb = Double(b.reduce(0, +))
    return zip(a, b).reduce(0) { $0 + abs(Double($1.0) / na - Double($1.1) / nb) } / 2
  }

  @Test func sampledOutputKeepsTheTargetDistribution() throws {
    let target = try ModelRegistry.load(try GGUFFile(bytes: TinyLlama.bytes(seed: 7)), pool: ThreadPool(threadCount: 1))
    let draft = try ModelRegistry.load(try GGUFFile(bytes: TinyLlama.bytes(seed: 8)), pool: ThreadPool(threadCount: 1))
    let g = Generator(model: target, tokenizer: try tinyTokenizer())
    let runs = 3000
    let plain = try histogram(g, speculation: nil, runs: runs)
    let ngram = try histogram(g, speculation: SpeculationOptions(proposer: .ngram, draftTokens: 3, adaptive: false), runs: runs)
    let drafted = try histogram(g, speculation: SpeculationOptions(proposer: .draftModel(draft), draftTokens: 3, adaptive: false), runs: runs)
    // Two samples of 3,000 from the same distribution over ≤ ~36 outcomes differ by TV ≈ 0.04;
    // a wrong acceptance rule (e.g. always accepting the draft) moves it by far more.
    for pos in 0..<3 {
      #expect(totalVariation(plain[pos], ngram[pos]) < 0.08, "n-gram, position \(pos + 1)")
      #expect(totalVariation(plain[pos], drafted[pos]) < 0.08, "draft model, position \(pos + 1)")
    }
  }
}

@Suite("Speculative acceptance rule")
struct SpeculativeAcceptanceTests {
  /// Draws a draft from q, applies the rule, and checks the emitted token follows p, for a
  /// deterministic draft (q a point mass) and a full draft distribution.
  @Test(arguments: [false, true])
  func emittedTokensFollowTheTarget(pointMass: Bool) {
    let p: [(id: Int32, p: Float)] = [(0, 0.5), (1, 0.25), (2, 0.15), (3, 0.1)]
    let q: [(id: Int32, p: Float)] = [(0, 0.1), (1, 0.2), (2, 0.6), (3, 0.1)]
    var params = SamplingParameters()
    params.seed = 42
    var sampler = Sampler(params)
    var draftSampler = Sampler(params)
    var counts = [Int](repeating: 0, count: 4)
    let n = 200_000
    for _ in 0..<n {
      let x = pointMass ? Int32(2) : draftSampler.draw(q)
      let draft = DraftToken(id: x, q: pointMass ? nil : q)
      let token = SpeculativeAcceptance.check(target: p, draft: draft, sampler: &sampler) ?? x
      counts[Int(token)] += 1
    }
    for (i, e) in p.enumerated() {
      let got = Double(counts[i]) / Double(n)
      #expect(abs(got - Double(e.p)) < 0.006, "token \(i): \(got) vs \(e.p)")
    }
  }

  @Test func greedyAcceptsOnlyItsOwnChoice() {
    var sampler = Sampler(.greedy)
    #expect(SpeculativeAcceptance.check(target: [(7, 1)], draft: DraftToken(id: 7), sampler: &sampler) == nil)
    #expect(SpeculativeAcceptance.check(target: [(7, 1)], draft: DraftToken(id: 3), sampler: &sampler) == 7)
  }
}
