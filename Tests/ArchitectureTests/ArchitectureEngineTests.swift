import Engine
import Foundation
import Models
import TestSupport
import Testing

/// The serving engine on each transplanted architecture: the fixture prompts run concurrently —
/// batched, in small prefill chunks with forced preemption, and speculating with prompt lookup —
/// must give exactly the single-sequence path's greedy tokens, which are llama.cpp's.
@Suite(
  "Transplanted architectures in the serving engine", .serialized,
  .enabled(if: ArchitectureTestModels.isEnabled, "the architecture tier: PEREGRINE_ARCH_TESTS=1 (scripts/arch-tests.sh)"))
struct ArchitectureEngineTests {
  static let modes = ["batched", "chunked and preempted", "speculating"]

  @Test(arguments: ArchitectureTestModels.names, modes)
  func concurrentRequestsEqualTheSingleSequencePath(_ name: String, mode: String) async throws {
    let fixture = try ArchitectureTestModels.fixture(name)
    let model = try ArchitectureTestModels.model(name)
    let tokenizer = try ArchitectureTestModels.tokenizer(name)
    let maxTokens = 24
    let prompts = fixture.entries.map(\.prompt_ids_with_bos_as_server_adds)

    let g = Generator(model: model, tokenizer: tokenizer)
    var options = GenerationOptions()
    options.maxTokens = maxTokens
    options.sampling = .greedy
    options.stopAtEndOfGeneration = false
    let alone = try prompts.map { try g.generate(promptIDs: $0, options: options).generatedIDs }

    var c = EngineConfiguration()
    c.kvCacheBytes = 64 << 20
    switch mode {
    case "chunked and preempted":
      c.maxBatchTokens = 16
      c.preemptEverySteps = 3
    case "speculating":
      c.speculation.method = .ngram
    default: break
    }
    let engine = try InferenceEngine(model: model, tokenizer: tokenizer, configuration: c)
    let streams = try prompts.map {
      try engine.submit(EngineRequest(promptIDs: $0, sampling: .greedy, maxTokens: maxTokens, ignoreEndOfGeneration: true))
    }
    let results = await withTaskGroup(of: (Int, [Int32]).self) { group in
      for (i, s) in streams.enumerated() {
        group.addTask {
          var ids: [Int32] = []
          for await event in s { if case .token(let t) = event { ids.append(t.id) } }
          return (i, ids)
        }
      }
      var out = [[Int32]](repeating: [], count: streams.count)
      for await (i, ids) in group { out[i] = ids }
      return out
    }
    for i in prompts.indices {
      #expect(results[i] == alone[i], "\(name) prompt \(i) (\(mode))")
      // llama.cpp's tokens, up to where its run ended (an end-of-generation token it lists last).
      let reference = fixture.entries[i].generated_ids
      #expect(Array(alone[i].prefix(reference.count)) == reference, "\(name) prompt \(i)")
    }
  }
}
