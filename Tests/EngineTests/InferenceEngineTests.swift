import Engine
import Foundation
import Kernels
import Models
import TestSupport
import Testing
import Tokenizers

/// The serving engine on the real SmolLM2: batching, prefix reuse and preemption must never change
/// what a greedy request generates, and every way a request ends must free its blocks.
@Suite("Inference engine on SmolLM2", .serialized)
struct InferenceEngineTests {
  static let prompts = [
    "The capital of France is", "Once upon a time, there was a", "def fibonacci(n):",
    "The three primary colors are", "Water boils at", "My favourite fruit is",
    "In 1969, astronauts", "The quick brown fox", "To make a cup of tea, first", "Photosynthesis is the process",
    "The largest planet in the solar system", "A haiku about winter:", "SELECT name FROM users WHERE",
    "The opposite of hot is", "Bonjour, je m'appelle", "import numpy as np\n",
  ]

  func tokenizer() throws -> Tokenizer { try Tokenizer(vocabulary: smolLM2Vocabulary()) }

  func engine(
    numerics: Numerics = .exact, _ configure: (inout EngineConfiguration) -> Void = { _ in }
  ) throws -> InferenceEngine {
    var c = EngineConfiguration()
    c.kvCacheBytes = 64 << 20
    configure(&c)
    return try InferenceEngine(
      model: try TestModels.model("smollm2-135m", numerics: numerics), tokenizer: try tokenizer(), configuration: c)
  }

  nonisolated(unsafe) static var memo: [[Int32]: [Int32]] = [:]
  static let memoLock = NSLock()

  /// Greedy ids of each prompt run alone through the single-sequence Generator (memoised).
  func aloneOutputs(_ prompts: [[Int32]], maxTokens: Int, numerics: Numerics = .exact) throws -> [[Int32]] {
    Self.memoLock.lock()
    defer { Self.memoLock.unlock() }
    let tag = [Int32(-maxTokens), numerics == .exact ? 0 : -1]
    if let known = Optional(prompts.compactMap { Self.memo[$0 + tag] }), known.count == prompts.count {
      return known
    }
    let g = Generator(model: try TestModels.model("smollm2-135m", numerics: numerics), tokenizer: try tokenizer())
    var options = GenerationOptions()
    options.maxTokens = maxTokens
    options.sampling = .greedy
    options.stopAtEndOfGeneration = false
    let out = try prompts.map { try g.generate(promptIDs: $0, options: options).generatedIDs }
    for (p, o) in zip(prompts, out) { Self.memo[p + tag] = o }
    return out
  }

  static func collect(_ stream: AsyncStream<EngineEvent>) async -> ([GeneratedToken], EngineCompletion?) {
    var tokens: [GeneratedToken] = []
    for await event in stream {
      switch event {
      case .token(let t): tokens.append(t)
      case .finished(let c): return (tokens, c)
      }
    }
    return (tokens, nil)
  }

  func runConcurrently(_ engine: InferenceEngine, _ prompts: [[Int32]], maxTokens: Int) async throws
    -> [([GeneratedToken], EngineCompletion?)]
  {
    let streams = try prompts.map {
      try engine.submit(EngineRequest(promptIDs: $0, sampling: .greedy, maxTokens: maxTokens, ignoreEndOfGeneration: true))
    }
    return await withTaskGroup(of: (Int, ([GeneratedToken], EngineCompletion?)).self) { group in
      for (i, s) in streams.enumerated() { group.addTask { (i, await Self.collect(s)) } }
      var results = Array(repeating: ([GeneratedToken](), EngineCompletion?.none), count: streams.count)
      for await (i, r) in group { results[i] = r }
      return results
    }
  }

  static func waitUntilIdle(_ engine: InferenceEngine) async -> EngineStatistics {
    for _ in 0..<500 {
      let s = engine.statistics()
      if s.running == 0 && s.waiting == 0 { return s }
      try? await Task.sleep(for: .milliseconds(10))
    }
    return engine.statistics()
  }

  @Test(arguments: ["batched", "no prefix cache", "forced preemption", "tiny cache"], Numerics.allCases)
  func sixteenConcurrentGreedyRequestsEqualEachAlone(mode: String, numerics: Numerics) async throws {
    let tok = try tokenizer()
    let prompts = Self.prompts.map { tok.encode($0, addSpecial: true, parseSpecial: true) }
    let maxTokens = 20
    let expected = try aloneOutputs(prompts, maxTokens: maxTokens, numerics: numerics)
    let engine = try engine(numerics: numerics) { c in
      switch mode {
      case "no prefix cache": c.prefixCaching = false
      case "forced preemption": c.preemptEverySteps = 4
      case "tiny cache":
        // 8 blocks of 16 tokens: far less than 16 sequences need, so block pressure preempts.
        c.kvCacheBytes = 8 * PagedKVCache.bytesPerBlock(layers: 30, kvDim: 192, blockSize: 16)
      default: break
      }
    }
    let results = try await runConcurrently(engine, prompts, maxTokens: maxTokens)
    for (i, (tokens, completion)) in results.enumerated() {
      #expect(tokens.map(\.id) == expected[i], "prompt \(i) (\(mode), \(numerics))")
      #expect(completion?.finishReason == .length)
      #expect(completion?.completionTokens == maxTokens)
    }
    let stats = await Self.waitUntilIdle(engine)
    #expect(stats.kvBlocksUsed == 0)
    if mode == "forced preemption" || mode == "tiny cache" { #expect(stats.preemptionsTotal > 0) }
  }

  @Test func sharedPrefixIsServedFromTheCache() async throws {
    let tok = try tokenizer()
    let base = String(repeating: "The history of the city begins with a small harbour town. ", count: 12)
    let a = tok.encode(base + "Tell me about its port.", addSpecial: true, parseSpecial: true)
    let b = tok.encode(base + "Tell me about its people.", addSpecial: true, parseSpecial: true)
    let engine = try engine()
    let first = await Self.collect(try engine.submit(EngineRequest(promptIDs: a, maxTokens: 8, ignoreEndOfGeneration: true)))
    let second = await Self.collect(try engine.submit(EngineRequest(promptIDs: b, maxTokens: 8, ignoreEndOfGeneration: true)))
    #expect(first.1?.cachedPromptTokens == 0)
    let common = zip(a, b).prefix { $0 == $1 }.count
    #expect((second.1?.cachedPromptTokens ?? 0) >= common - 16, "common prefix \(common) tokens")
    #expect(second.0.map(\.id) == (try aloneOutputs([b], maxTokens: 8))[0])
    let stats = engine.statistics()
    #expect(stats.prefixHitTokens > 0 && stats.prefixQueryTokens >= a.count + b.count)
  }

  @Test func droppingTheStreamCancelsAndFreesBlocks() async throws {
    let tok = try tokenizer()
    let engine = try engine()
    let stream = try engine.submit(
      EngineRequest(promptIDs: tok.encode("Count to a thousand:", addSpecial: true, parseSpecial: true), maxTokens: 500, ignoreEndOfGeneration: true))
    // The client's task goes away mid-stream (as a server handler does when its connection drops).
    let reader = Task {
      var n = 0
      for await event in stream { if case .token = event { n += 1 } }
      return n
    }
    while engine.statistics().generationTokensTotal < 3 { try await Task.sleep(for: .milliseconds(5)) }
    reader.cancel()
    let seen = await reader.value
    #expect(seen >= 3 && seen < 500)
    let stats = await Self.waitUntilIdle(engine)
    #expect(stats.running == 0 && stats.kvBlocksUsed == 0)
  }

  @Test func cancelByIDFinishesWithAbort() async throws {
    let tok = try tokenizer()
    let engine = try engine()
    let request = EngineRequest(
      id: "cancel-me", promptIDs: tok.encode("Hello", addSpecial: true, parseSpecial: true), maxTokens: 400, ignoreEndOfGeneration: true)
    let stream = try engine.submit(request)
    var completion: EngineCompletion? = nil
    var seen = 0
    for await event in stream {
      switch event {
      case .token:
        seen += 1
        if seen == 2 { engine.cancel("cancel-me") }
      case .finished(let c): completion = c
      }
    }
    #expect(completion?.finishReason == .abort)
    #expect((completion?.completionTokens ?? 999) < 400)
    #expect(await Self.waitUntilIdle(engine).kvBlocksUsed == 0)
  }

  @Test func stopStringsLogprobsAndLimits() async throws {
    let tok = try tokenizer()
    let engine = try engine { $0.maxWaiting = 2 }
    let prompt = tok.encode("1, 2, 3, 4,", addSpecial: true, parseSpecial: true)
    let (tokens, completion) = await Self.collect(
      try engine.submit(EngineRequest(promptIDs: prompt, maxTokens: 30, stopSequences: [" 7"], topLogprobs: 3)))
    let text = tokens.map(\.text).joined()
    #expect(completion?.finishReason == .stop, "text: \(text)")
    #expect(!text.contains(" 7"))
    for t in tokens {
      #expect(t.topLogprobs.count == 3)
      #expect(t.topLogprobs.map(\.logprob) == t.topLogprobs.map(\.logprob).sorted(by: >))
      // Greedy: the chosen token is the most likely one.
      #expect(t.logprob?.id == t.topLogprobs.first?.id)
      #expect((t.logprob?.logprob ?? 1) <= 0)
    }
    #expect(throws: EngineError.self) { try engine.submit(EngineRequest(promptIDs: prompt, maxTokens: 0)) }
    #expect(throws: EngineError.self) { try engine.submit(EngineRequest(promptIDs: [99_999_999], maxTokens: 1)) }
    #expect(throws: EngineError.promptTooLong(promptTokens: prompt.count, maxTokens: 9000, contextLength: 8192)) {
      try engine.submit(EngineRequest(promptIDs: prompt, maxTokens: 9000))
    }
  }
}
