import Engine
import Models
import TestSupport
import Testing
import Tokenizers

@Suite("Generator on SmolLM2", .serialized)
struct GeneratorTests {
  func make() throws -> Generator {
    Generator(model: try TestModels.model("smollm2-135m"), tokenizer: try Tokenizer(vocabulary: smolLM2Vocabulary()))
  }

  @Test func seededSamplingReproducesAndStreamsTheSameText() throws {
    let g = try make()
    let ids = g.tokenizer.encode("Once upon a time", addSpecial: true, parseSpecial: true)
    var options = GenerationOptions()
    options.maxTokens = 24
    options.sampling.seed = 7
    options.stopAtEndOfGeneration = false
    var streamed = ""
    let a = try g.generate(promptIDs: ids, options: options) { streamed += $0 }
    let b = try g.generate(promptIDs: ids, options: options)
    #expect(a.generatedIDs == b.generatedIDs)
    #expect(a.generatedIDs.count == 24)
    #expect(streamed == a.text)
    #expect(a.text == g.tokenizer.decode(a.generatedIDs, special: false))
    options.sampling.seed = 8
    let c = try g.generate(promptIDs: ids, options: options)
    #expect(c.generatedIDs != a.generatedIDs)
  }

  @Test func reusedCacheGivesTheSameGreedyOutputAsAFreshOne() throws {
    let g = try make()
    var options = GenerationOptions()
    options.maxTokens = 12
    options.sampling = .greedy
    let p1 = g.tokenizer.encode("The capital of France is", addSpecial: true, parseSpecial: true)
    let p2 = g.tokenizer.encode("The capital of France is Paris. The capital of Spain is", addSpecial: true, parseSpecial: true)
    _ = try g.generate(promptIDs: p1, options: options)
    let reused = try g.generate(promptIDs: p2, options: options)
    let fresh = try make().generate(promptIDs: p2, options: options)
    #expect(reused.generatedIDs == fresh.generatedIDs)
  }

  @Test func chatStopsAtEndOfTurn() throws {
    let g = try make()
    let template = ChatTemplate(source: try TestModels.file("smollm2-135m").metadata["tokenizer.chat_template"]?.string)
    let ids = g.tokenizer.encode(
      try template.render([
        ChatMessage(role: "system", content: "You are a helpful assistant."),
        ChatMessage(role: "user", content: "What is the capital of France?"),
      ]), addSpecial: false,
      parseSpecial: true)
    var options = GenerationOptions()
    options.maxTokens = 200
    options.sampling = .greedy
    let r = try g.generate(promptIDs: ids, options: options)
    #expect(r.finishReason == .stop)
    #expect(r.text.contains("Paris"))
    #expect(r.timings.generatedTokens == r.generatedIDs.count)
    #expect(r.timings.promptTokens == ids.count)
  }

  @Test func tooLongAPromptIsAClearError() throws {
    let g = try make()
    var options = GenerationOptions()
    options.maxTokens = 9000
    #expect(throws: GenerationError.self) { try g.generate(promptIDs: [1, 2, 3], options: options) }
    options.maxTokens = 4
    options.sampling.topP = 7
    #expect(throws: GenerationError.self) { try g.generate(promptIDs: [1, 2, 3], options: options) }
  }
}
