import Testing
import Tokenizers

/// A hand-made vocabulary small enough to reason about every merge.
private func tinyVocabulary(pre: String? = "gpt2") -> TokenizerVocabulary {
  let entries: [(String, TokenType)] = [
    ("<|end|>", .control),  // 0
    ("<user>", .userDefined),  // 1
    ("a", .normal), ("b", .normal), ("c", .normal), ("Ġ", .normal),  // 2...5
    ("ab", .normal), ("bc", .normal), ("abc", .normal), ("Ġa", .normal),  // 6...9
    ("<", .normal), ("|", .normal), ("e", .normal), ("n", .normal), ("d", .normal),  // 10...14
    (">", .normal), ("<unk>", .unknown), ("<|end|>!", .userDefined),  // 15...17
    ("Ã", .normal), ("©", .normal), ("Ã©", .normal), ("Ċ", .normal),  // 18...21: é = C3 A9, \n
  ]
  return TokenizerVocabulary(
    model: "gpt2", pre: pre,
    tokens: entries.map(\.0), tokenTypes: entries.map(\.1.rawValue),
    // "c c" makes "cc", which the vocabulary lacks: it must fall back to two "c" tokens.
    // "Ġ Ġ" makes "ĠĠ", also missing; its GPT-2 text has no one-byte characters, so nothing is left.
    merges: ["b c", "a b", "a bc", "Ġ a", "Ã ©", "c c", "Ġ Ġ"],
    bosID: 0, eosID: 0, addBOS: false, addEOS: true)
}

@Suite struct BPETokenizerTests {
  let tokenizer: Tokenizer

  init() throws {
    tokenizer = try Tokenizer(vocabulary: tinyVocabulary())
  }

  @Test func mergesApplyInRankOrder() {
    // "b c" (rank 0) beats "a b" (rank 1), so "abc" is a+bc → abc, never ab+c.
    #expect(tokenizer.encode("abc", addSpecial: false, parseSpecial: true) == [8])
    #expect(tokenizer.encode("ab", addSpecial: false, parseSpecial: true) == [6])
    #expect(tokenizer.encode("abab", addSpecial: false, parseSpecial: true) == [6, 6])
    #expect(tokenizer.encode("cab", addSpecial: false, parseSpecial: true) == [4, 6])
    #expect(tokenizer.encode(" a", addSpecial: false, parseSpecial: true) == [9])
    #expect(tokenizer.encode(" abc", addSpecial: false, parseSpecial: true) == [5, 8])
    #expect(tokenizer.encode("é", addSpecial: false, parseSpecial: true) == [20])
  }

  @Test func mergeResultMissingFromVocabularyFallsBackToBytes() {
    #expect(tokenizer.encode("cc", addSpecial: false, parseSpecial: true) == [4, 4])
    #expect(tokenizer.encode("ccc", addSpecial: false, parseSpecial: true) == [4, 4, 4])
  }

  @Test func missingMergeResultKeepsOnlyItsOneByteCharacters() {
    // llama.cpp looks the missing symbol's GPT-2 text up byte by byte: "ĠĠ" is four bytes, none a token.
    #expect(tokenizer.encode("  ", addSpecial: false, parseSpecial: true) == [])
  }

  @Test func bytesWithoutAnyTokenAreDropped() {
    // 'z' has no token at all; llama.cpp drops it rather than inventing an id.
    #expect(tokenizer.encode("azb", addSpecial: false, parseSpecial: true) == [2, 3])
  }

  @Test func specialTokensArePartitionedOut() {
    #expect(tokenizer.encode("ab<|end|>c", addSpecial: false, parseSpecial: true) == [6, 0, 4])
    #expect(tokenizer.encode("a<user>b", addSpecial: false, parseSpecial: true) == [2, 1, 3])
    #expect(tokenizer.encode("<unk>", addSpecial: false, parseSpecial: true) == [16])
    // The longer special wins where both match.
    #expect(tokenizer.encode("<|end|>!<|end|>", addSpecial: false, parseSpecial: true) == [17, 0])
  }

  @Test func parseSpecialFalseKeepsOnlyUserDefinedTokens() {
    #expect(
      tokenizer.encode("<|end|>", addSpecial: false, parseSpecial: false)
        == [10, 11, 12, 13, 14, 11, 15])
    #expect(tokenizer.encode("a<user>b", addSpecial: false, parseSpecial: false) == [2, 1, 3])
    #expect(tokenizer.encode("<|end|>!", addSpecial: false, parseSpecial: false) == [17])
    #expect(!tokenizer.encode("<unk>", addSpecial: false, parseSpecial: false).contains(16))
  }

  @Test func addSpecialFollowsVocabularyFlags() {
    // This vocabulary adds EOS but not BOS.
    #expect(tokenizer.encode("ab", addSpecial: true, parseSpecial: true) == [6, 0])
    #expect(tokenizer.encode("", addSpecial: true, parseSpecial: true) == [0])
    #expect(tokenizer.encode("", addSpecial: false, parseSpecial: true) == [])
  }

  @Test func piecesUndoTheByteMapping() {
    #expect(tokenizer.piece(9, special: false) == [0x20, 0x61])
    #expect(tokenizer.piece(18, special: false) == [0xC3])
    #expect(tokenizer.piece(20, special: false) == [0xC3, 0xA9])
    #expect(tokenizer.piece(21, special: false) == [0x0A])
    #expect(tokenizer.piece(0, special: false) == [])
    #expect(tokenizer.piece(0, special: true) == Array("<|end|>".utf8))
    #expect(tokenizer.piece(1, special: false) == Array("<user>".utf8))
    #expect(tokenizer.piece(-1, special: true) == [])
    #expect(tokenizer.piece(999, special: true) == [])
  }

  @Test func decodeJoinsPieces() {
    #expect(tokenizer.decode([9, 7, 0, 20], special: false) == " abcé")
    #expect(tokenizer.decode([9, 7, 0, 20], special: true) == " abc<|end|>é")
    // A lone lead byte cannot be completed: it decodes to U+FFFD.
    #expect(tokenizer.decode([18, 2], special: false) == "\u{FFFD}a")
  }

  @Test func vocabularyQueries() {
    #expect(tokenizer.vocabularySize == 22)
    #expect(tokenizer.tokenID("Ġa") == 9)
    #expect(tokenizer.tokenID("zz") == nil)
    #expect(tokenizer.bosID == 0)
    #expect(tokenizer.isEndOfGeneration(0))
    #expect(!tokenizer.isEndOfGeneration(1))
  }

  @Test func endOfTurnTextsCountAsEndOfGeneration() throws {
    var v = tinyVocabulary()
    v.tokens[1] = "<|im_end|>"
    v.eosID = nil
    let t = try Tokenizer(vocabulary: v)
    #expect(t.isEndOfGeneration(1))
    #expect(t.isEndOfGeneration(0))  // "<|end|>" is an end-of-turn text too
    #expect(!t.isEndOfGeneration(2))
    // Like llama.cpp, such tokens become control tokens whatever type they were given.
    #expect(t.piece(1, special: false) == [])
    #expect(t.encode("a<|im_end|>", addSpecial: false, parseSpecial: true) == [2, 1])
  }

  @Test func longWordDoesNotBlowUp() {
    let word = String(repeating: "ab", count: 5_000)
    let ids = tokenizer.encode(word, addSpecial: false, parseSpecial: true)
    #expect(ids == [Int32](repeating: 6, count: 5_000))
  }

  @Test func badVocabulariesAreTypedErrors() {
    var v = tinyVocabulary()
    v.model = "ugm"
    #expect(throws: TokenizerError.unsupportedModel("ugm")) { try Tokenizer(vocabulary: v) }

    v = tinyVocabulary(pre: "chameleon")
    #expect(throws: TokenizerError.unsupportedPreTokenizer("chameleon")) { try Tokenizer(vocabulary: v) }

    v = tinyVocabulary()
    v.merges.append("abc")
    #expect(throws: TokenizerError.malformedMerge(index: 7, text: "abc")) { try Tokenizer(vocabulary: v) }

    v = tinyVocabulary()
    v.tokenTypes.removeLast()
    #expect(throws: TokenizerError.tokenTypeCountMismatch(tokens: 22, types: 21)) {
      try Tokenizer(vocabulary: v)
    }

    v = tinyVocabulary()
    v.bosID = 22
    #expect(throws: TokenizerError.specialTokenOutOfRange(name: "BOS", id: 22)) {
      try Tokenizer(vocabulary: v)
    }
  }
}
