import Testing
import Tokenizers

@Suite struct PreTokenizerTests {
  let gpt2 = PreTokenizer(type: .gpt2)
  let starCoder = PreTokenizer(type: .starCoder)

  @Test func wordsTakeTheirLeadingSpace() {
    #expect(gpt2.split("Hello world") == ["Hello", " world"])
    #expect(gpt2.split("Hello, world!") == ["Hello", ",", " world", "!"])
    #expect(gpt2.split("über straße") == ["über", " straße"])
    #expect(gpt2.split("hello!!! ?") == ["hello", "!!!", " ?"])
  }

  @Test func contractionsAreLowercaseOnly() {
    #expect(gpt2.split("can't") == ["can", "'t"])
    #expect(gpt2.split("we're they'll I'd") == ["we", "'re", " they", "'ll", " I", "'d"])
    #expect(gpt2.split("CAN'T") == ["CAN", "'", "T"])
    #expect(gpt2.split("y'all") == ["y", "'", "all"])
  }

  @Test func whitespaceRunsGiveTheLastSpaceToTheNextWord() {
    #expect(gpt2.split("a  b") == ["a", " ", " b"])
    #expect(gpt2.split("a   b") == ["a", "  ", " b"])
    #expect(gpt2.split("  two") == [" ", " two"])
    #expect(gpt2.split("hi  ") == ["hi", "  "])
    #expect(gpt2.split("hi ") == ["hi", " "])
    #expect(gpt2.split("\t") == ["\t"])
    #expect(gpt2.split("a\u{3000}b") == ["a", "\u{3000}", "b"])
  }

  @Test func newlines() {
    #expect(gpt2.split("a\nb") == ["a", "\n", "b"])
    #expect(gpt2.split("a\n\n\nb") == ["a", "\n\n", "\n", "b"])
    #expect(gpt2.split("end\n") == ["end", "\n"])
    #expect(gpt2.split("\r\n\r\n") == ["\r\n\r\n"])
    #expect(gpt2.split("x\n    y") == ["x", "\n   ", " y"])
  }

  @Test func gpt2KeepsDigitRuns() {
    #expect(gpt2.split("in 2024!") == ["in", " 2024", "!"])
  }

  @Test func starCoderSplitsEveryDigit() {
    #expect(starCoder.split("in 2024!") == ["in", " ", "2", "0", "2", "4", "!"])
    #expect(starCoder.split("abc123def") == ["abc", "1", "2", "3", "def"])
    #expect(starCoder.split("x²") == ["x", "²"])
    #expect(starCoder.split("can't stop") == ["can", "'t", " stop"])
  }

  @Test func chunksConcatenateToTheInput() {
    let text = "  Mixed\t\ttext, 12 numbers;\n\n émoji 🙂🚀 and 한국어  "
    #expect(gpt2.split(text).joined() == text)
    #expect(starCoder.split(text).joined() == text)
  }

  @Test func preNamesSelectTheRules() throws {
    #expect(try PreTokenizer(pre: "smollm").type == .starCoder)
    #expect(try PreTokenizer(pre: nil).type == .defaultRules)
    #expect(try PreTokenizer(pre: "gpt2").type == .gpt2)
    #expect(try PreTokenizer(pre: "deepseek-r1-qwen").type == .qwen2)
    #expect(throws: TokenizerError.unsupportedPreTokenizer("chameleon")) { try PreTokenizer(pre: "chameleon") }
    let message = TokenizerError.unsupportedPreTokenizer("chameleon").description
    #expect(message.contains("'chameleon'") && message.contains("qwen2") && message.contains("llama-bpe"))
  }
}

@Suite struct PreTokenizerFamilyTests {
  /// Every family's patterns compile and give back their input; each splits a mixed text.
  @Test(arguments: PreTokenizerType.allCases) func everyFamilyRoundTrips(type: PreTokenizerType) {
    let p = PreTokenizer(type: type)
    let text = "Hello, WORLD's 12345 \t\n\n  x  你好世界 😀 naïve ﬁ \u{3000}end  "
    let chunks = p.split(text)
    #expect(chunks.joined() == text)
    #expect(chunks.count > 5)
    #expect(!chunks.contains(""))
  }
}

@Suite struct SplitRegexTests {
  /// `\s+$` tried at each of n spaces that are followed by something else would rerun its loop to
  /// the end of the run each time: quadratic without the failure memo (50,000 spaces took 22 s, so
  /// 200,000 would take minutes and trip the limit). The splits stay llama.cpp's.
  @Test(.timeLimit(.minutes(1))) func longRunsStayLinear() {
    let p = PreTokenizer(type: .deepseekLLM)
    let text = String(repeating: " ", count: 200_000) + "😀"
    let chunks = p.split(text)
    #expect(chunks.joined() == text)
    #expect(chunks == [String(repeating: " ", count: 200_000) + "😀"])
  }
}
