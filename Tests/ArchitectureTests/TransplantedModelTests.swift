import Engine
import Foundation
import Models
import TestSupport
import Testing
import Tokenizers

/// Each architecture on its transplanted test model against llama.cpp on the same file
/// (`Tests/Fixtures/architectures`): perplexity within 0.5 %, greedy continuations identical.
///
/// SmolLM2's activation outliers make these models as sensitive as SmolLM2 itself: a missing bias,
/// a wrong norm, RoPE pairing, frequency factor, expert weight or router order changes low bits
/// that grow to visible log-probability differences within a few layers. Matching the fixtures'
/// top-10 log-probabilities to their own rounding means matching llama.cpp's arithmetic.
@Suite(
  "Transplanted architectures vs llama.cpp", .serialized,
  .enabled(if: ArchitectureTestModels.isEnabled, "the architecture tier: PEREGRINE_ARCH_TESTS=1 (scripts/arch-tests.sh)"))
struct TransplantedModelTests {
  @Test(arguments: ArchitectureTestModels.names)
  func theFileIsTheOneLlamaCppRan(_ name: String) throws {
    let fixture = try ArchitectureTestModels.fixture(name)
    let digest = try ArchitectureTestModels.sha256(ArchitectureTestModels.path(name))
    #expect(
      digest == fixture.model_sha256,
      "\(name).gguf differs from the file the fixture was recorded on: regenerate both (tools/make_test_models.py, tools/llamacpp_arch_fixtures.py)")
  }

  @Test(arguments: ArchitectureTestModels.names)
  func perplexityWithinHalfAPercentOfLlamaCpp(_ name: String) throws {
    let fixture = try ArchitectureTestModels.fixture(name)
    let model = try ArchitectureTestModels.model(name)
    let tokenizer = try ArchitectureTestModels.tokenizer(name)
    let vocabulary = try TokenizerVocabulary(metadata: ArchitectureTestModels.file(name).metadata)
    let text = try String(contentsOfFile: referenceDirectory() + "/perplexity_text.txt", encoding: .utf8)
    let result = try Perplexity.evaluate(
      model: model, tokenizer: tokenizer, text: text, context: 512, addBOS: vocabulary.addBOS)
    let gap = (result.perplexity - fixture.perplexity.ppl) / fixture.perplexity.ppl
    print("\(name): PPL \(result.perplexity) vs llama.cpp \(fixture.perplexity.ppl) (\(gap * 100) %)")
    #expect(result.chunks == fixture.perplexity.chunks)
    #expect(abs(gap) < 0.005, "\(name)")
  }

  @Test(arguments: ArchitectureTestModels.names)
  func greedyContinuationsEqualLlamaCpp(_ name: String) throws {
    let fixture = try ArchitectureTestModels.fixture(name)
    let model = try ArchitectureTestModels.model(name)
    #expect(fixture.entries.count >= 5)
    for (i, entry) in fixture.entries.enumerated() {
      let o = try GreedyHarness.run(model, entry)
      print(
        "\(name) prompt \(i): greedy prefix \(o.prefix)/\(entry.generated_ids.count), worst top-10 gap \(o.worstGap)")
      #expect(o.referenceTopRank == 0, "\(name) prompt \(i)")
      #expect(o.prefix == entry.generated_ids.count, "\(name) prompt \(i): \(o.generated) vs \(entry.generated_ids)")
      #expect(o.worstGap < 0.02, "\(name) prompt \(i)")
    }
  }

  @Test(arguments: ArchitectureTestModels.names)
  func chatPromptsAndRepliesEqualLlamaServer(_ name: String) throws {
    let fixture = try ArchitectureTestModels.fixture(name)
    for chat in [fixture.chat, fixture.chat_user_only] { try checkChat(name, chat) }
  }

  func checkChat(_ name: String, _ chat: ArchitectureFixture.Chat) throws {
    let model = try ArchitectureTestModels.model(name)
    let tokenizer = try ArchitectureTestModels.tokenizer(name)
    let metadata = try ArchitectureTestModels.file(name).metadata
    let vocabulary = try TokenizerVocabulary(metadata: metadata)
    let template = ChatTemplate(source: metadata["tokenizer.chat_template"]?.string, vocabulary: vocabulary)
    let ids = try template.encode(chat.messages.map { ChatMessage(role: $0.role, content: $0.content) }, tokenizer: tokenizer)
    #expect(ids == chat.prompt_ids, "\(name): the family's template renders as llama-server's")
    let g = Generator(model: model, tokenizer: tokenizer)
    var options = GenerationOptions()
    options.maxTokens = 48
    options.sampling = .greedy
    let out = try g.generate(promptIDs: chat.prompt_ids, options: options)
    // llama.cpp lists the end-of-generation token that stopped it as the last id.
    #expect(out.generatedIDs + (out.stopTokenID.map { [$0] } ?? []) == chat.reply_ids, "\(name)")
    #expect((out.stopTokenID != nil) == (chat.stop_type == "eos"), "\(name): both stop at the end-of-turn token")
  }
}
