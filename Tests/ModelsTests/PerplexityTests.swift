import Engine
import Foundation
import Models
import TestSupport
import Testing
import Tokenizers

/// llama.cpp's `llama-perplexity -c 512` on the reference text gives 12.4808 for SmolLM2 and 10.0492
/// for Gemma 3 270M.
@Suite struct PerplexityTests {
  @Test func smolLM2WithinOnePercentOfLlamaCpp() throws {
    let model = try TestModels.model("smollm2-135m")
    let tokenizer = try Tokenizer(vocabulary: smolLM2Vocabulary())
    let text = try String(contentsOfFile: referenceDirectory() + "/perplexity_text.txt", encoding: .utf8)
    let result = try Perplexity.evaluate(model: model, tokenizer: tokenizer, text: text, context: 512, addBOS: false)
    print("SmolLM2 PPL = \(result.perplexity) +/- \(result.error) over \(result.chunks) chunks")
    #expect(result.chunks == 9)
    #expect(abs(result.perplexity - 12.4808) / 12.4808 < 0.01)
  }

  @Test func gemma3WithinOnePercentOfLlamaCpp() throws {
    let model = try TestModels.model("gemma3-270m")
    let vocabulary = try TokenizerVocabulary(metadata: TestModels.file("gemma3-270m").metadata)
    let tokenizer = try Tokenizer(vocabulary: vocabulary)
    let text = try String(contentsOfFile: referenceDirectory() + "/perplexity_text.txt", encoding: .utf8)
    let result = try Perplexity.evaluate(
      model: model, tokenizer: tokenizer, text: text, context: 512, addBOS: vocabulary.addBOS)
    print("Gemma 3 PPL = \(result.perplexity) +/- \(result.error) over \(result.chunks) chunks")
    #expect(result.chunks == 9)
    #expect(abs(result.perplexity - 10.0492) / 10.0492 < 0.01)
  }
}
