import Engine
import TestSupport
import Testing
import Tokenizers

@Suite struct ChatTemplateTests {
  static let smolLM2Source =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

  @Test func smolLM2InsertsItsDefaultSystemPrompt() throws {
    let t = ChatTemplate.handWritten(source: Self.smolLM2Source)
    #expect(t == .chatML(defaultSystem: "You are a helpful AI assistant named SmolLM, trained by Hugging Face"))
    #expect(
      try t.render([ChatMessage(role: "user", content: "Hi")])
        == "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
  }

  @Test func anExplicitSystemMessageReplacesTheDefault() throws {
    let t = ChatTemplate.handWritten(source: Self.smolLM2Source)
    let text = try t.render([
      ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi"),
      ChatMessage(role: "assistant", content: "Hello."), ChatMessage(role: "user", content: "Bye"),
    ])
    #expect(
      text
        == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n"
        + "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n")
  }

  @Test func gemmaTurns() throws {
    let t = ChatTemplate.handWritten(source: "{{ '<start_of_turn>' + role }}")
    #expect(t == .gemma)
    #expect(
      try t.render([ChatMessage(role: "system", content: "S"), ChatMessage(role: "user", content: "Hi")])
        == "<start_of_turn>user\nS\n\nHi<end_of_turn>\n<start_of_turn>model\n")
  }

  /// Gemma's vocabulary adds BOS to text and its hand-written template does not write it: encoding a
  /// conversation must put it first (without it the model answers with noise). SmolLM2 adds none.
  @Test func encodingAddsBOSOnlyWhereTheVocabularyWantsIt() throws {
    let gemma = try Tokenizer(vocabulary: TokenizerVocabulary(metadata: TestModels.file("gemma3-270m").metadata))
    let messages = [ChatMessage(role: "user", content: "Say hi")]
    let ids = try ChatTemplate.gemma.encode(messages, tokenizer: gemma)
    #expect(ids.first == gemma.bosID && ids.dropFirst().first != gemma.bosID)
    #expect(Array(ids.dropFirst()) == gemma.encode(try ChatTemplate.gemma.render(messages), addSpecial: false, parseSpecial: true))
    let smol = try Tokenizer(vocabulary: smolLM2Vocabulary())
    let t = ChatTemplate.handWritten(source: Self.smolLM2Source)
    #expect(try t.encode(messages, tokenizer: smol) == smol.encode(try t.render(messages), addSpecial: false, parseSpecial: true))
  }
}
