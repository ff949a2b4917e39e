import Testing
import Tokenizers

/// One token per byte of 🙂 (F0 9F 99 82), plus "a" and a stray continuation byte.
private func byteTokenizer() throws -> Tokenizer {
  let bytes: [UInt8] = [0xF0, 0x9F, 0x99, 0x82, 0x61, 0x80, 0xC3, 0xA9]
  let tokens = bytes.map { ByteUnicodeMap.encode([$0]) } + ["<|end|>"]
  let types = [Int32](repeating: 1, count: bytes.count) + [3]
  return try Tokenizer(
    vocabulary: TokenizerVocabulary(model: "gpt2", pre: "gpt2", tokens: tokens, tokenTypes: types))
}

@Suite struct StreamingDetokenizerTests {
  @Test func emojiSplitOverFourTokensWaitsUntilComplete() throws {
    var stream = StreamingDetokenizer(tokenizer: try byteTokenizer())
    #expect(stream.append(0) == "")
    #expect(stream.append(1) == "")
    #expect(stream.append(2) == "")
    #expect(stream.pendingByteCount == 3)
    #expect(stream.append(3) == "🙂")
    #expect(stream.pendingByteCount == 0)
    #expect(stream.append(4) == "a")
    #expect(stream.flush() == "")
  }

  @Test func completeTextBeforeAPartialCharacterIsEmitted() throws {
    var stream = StreamingDetokenizer(tokenizer: try byteTokenizer())
    #expect(stream.append(4) == "a")
    #expect(stream.append(6) == "")
    #expect(stream.append(7) == "é")
    #expect(stream.append(4) == "a")
  }

  @Test func flushReplacesAnUnfinishedCharacter() throws {
    var stream = StreamingDetokenizer(tokenizer: try byteTokenizer())
    #expect(stream.append(4) == "a")
    #expect(stream.append(0) == "")
    #expect(stream.append(1) == "")
    #expect(stream.flush() == "\u{FFFD}")
    #expect(stream.pendingByteCount == 0)
  }

  @Test func bytesThatCanNeverBeValidAreNotHeld() throws {
    var stream = StreamingDetokenizer(tokenizer: try byteTokenizer())
    // A continuation byte with no lead: nothing can repair it.
    #expect(stream.append(5) == "\u{FFFD}")
    // A lead byte followed by a non-continuation: the lead is invalid, "a" is fine.
    #expect(stream.append(0) == "")
    #expect(stream.append(4) == "\u{FFFD}a")
  }

  @Test func controlTokensFollowTheSpecialFlag() throws {
    let tokenizer = try byteTokenizer()
    var plain = StreamingDetokenizer(tokenizer: tokenizer)
    #expect(plain.append(8) == "")
    var special = StreamingDetokenizer(tokenizer: tokenizer, special: true)
    #expect(special.append(8) == "<|end|>")
  }

  @Test func streamEqualsOneShotDecode() throws {
    let tokenizer = try byteTokenizer()
    let ids: [Int32] = [4, 0, 1, 2, 3, 6, 7, 5, 0, 4, 6]
    var stream = StreamingDetokenizer(tokenizer: tokenizer)
    var text = ""
    for id in ids { text += stream.append(id) }
    text += stream.flush()
    #expect(text == tokenizer.decode(ids, special: false))
  }
}
