import Engine
import GGUF
import Kernels
import Models
import TestSupport
import Testing
import Tokenizers

/// Generation stops at every token llama.cpp counts as end of generation (`<|im_end|>`,
/// `<|eot_id|>`, `<|eom_id|>`, a FIM pad …), not only at EOS — in `Generator` (`run`, `chat`) and
/// in the serving engine. SmolLM2 picks the tokens greedily; the test renames a token it generates
/// so that it becomes an end-of-turn token, and generation must end just before it.
@Suite("End of generation on SmolLM2", .serialized)
struct EndOfGenerationTests {
  func model() throws -> any LanguageModel { try TestModels.model("smollm2-135m") }

  var prompt: [Int32] {
    get throws { try tokenizer().encode("The capital of France is", addSpecial: true, parseSpecial: true) }
  }

  /// SmolLM2's vocabulary with token `stop` renamed `text`.
  func tokenizer(stop: Int32? = nil, text: String = "") throws -> Tokenizer {
    var v = try smolLM2Vocabulary()
    if let stop { v.tokens[Int(stop)] = text }
    return try Tokenizer(vocabulary: v)
  }

  /// The greedy continuation with nothing stopping it, and the token it stops at when renamed.
  func reference(_ model: any LanguageModel) throws -> (ids: [Int32], stop: Int32, stopIndex: Int) {
    var options = GenerationOptions()
    options.maxTokens = 12
    options.sampling = .greedy
    options.stopAtEndOfGeneration = false
    let ids = try Generator(model: model, tokenizer: try tokenizer()).generate(promptIDs: try prompt, options: options).generatedIDs
    // A token that first appears after a few others.
    let index = try #require(ids.indices.first { $0 >= 3 && !ids[..<$0].contains(ids[$0]) }, "\(ids)")
    return (ids, ids[index], index)
  }

  static let endTexts = ["<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|endoftext|>", "<end_of_turn>", "<|end|>", "</s>", "<|fim_pad|>"]

  @Test(arguments: endTexts) func generatorStopsAtEveryEndToken(text: String) throws {
    let m = try model()
    let r = try reference(m)
    let tok = try tokenizer(stop: r.stop, text: text)
    #expect(tok.isEndOfGeneration(r.stop) && tok.eosID != r.stop)
    var options = GenerationOptions()
    options.maxTokens = 12
    options.sampling = .greedy
    let out = try Generator(model: m, tokenizer: tok).generate(promptIDs: try prompt, options: options)
    #expect(out.generatedIDs == Array(r.ids[..<r.stopIndex]))
    #expect(out.finishReason == .stop)
  }

  @Test(arguments: endTexts) func engineStopsAtEveryEndToken(text: String) async throws {
    let m = try model()
    let r = try reference(m)
    let engine = try InferenceEngine(model: m, tokenizer: try tokenizer(stop: r.stop, text: text), configuration: EngineConfiguration())
    var tokens: [Int32] = []
    var completion: EngineCompletion?
    for await event in try engine.submit(EngineRequest(promptIDs: try prompt, sampling: .greedy, maxTokens: 12)) {
      switch event {
      case .token(let t): tokens.append(t.id)
      case .finished(let c): completion = c
      }
    }
    #expect(tokens == Array(r.ids[..<r.stopIndex]))
    #expect(completion?.finishReason == .stop)
  }
}
