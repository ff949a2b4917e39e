import TestSupport
import Testing
import Tokenizers

/// A hand-made SentencePiece vocabulary small enough to reason about every merge. Byte tokens
/// exist only for the bytes of "€" (E2 82 AC), "🙂" (F0 9F 99 82), "x" and "\n", so other
/// characters missing from the vocabulary show what happens when even byte fallback fails.
private func tinyVocabulary(addSpacePrefix: Bool = false) -> TokenizerVocabulary {
  let entries: [(String, Float, TokenType)] = [
    ("<unk>", 0, .unknown),  // 0
    ("<s>", 0, .control),  // 1
    ("</s>", 0, .control),  // 2
    ("<0x0A>", 0, .byte), ("<0xE2>", 0, .byte), ("<0x82>", 0, .byte), ("<0xAC>", 0, .byte),  // 3...6
    ("<0xF0>", 0, .byte), ("<0x9F>", 0, .byte), ("<0x99>", 0, .byte), ("<0x78>", 0, .byte),  // 7...10
    ("▁", -1, .normal), ("a", -2, .normal), ("b", -3, .normal), ("c", -4, .normal),  // 11...14
    // "bc" outscores "ab", so "abc" is a+bc → abc; "cd" is unreachable: no "d" token.
    ("ab", -5, .normal), ("bc", -0.5, .normal), ("abc", -6, .normal), ("▁a", -1.5, .normal),  // 15...18
    ("▁ab", -7, .normal), ("aa", -8, .normal), ("<turn>", 0, .control), ("\n\n", 0, .userDefined),  // 19...22
    // "ca" and "ac" tie, so the leftmost pair goes first.
    ("ca", -9, .normal), ("ac", -9, .normal), ("xyz", -1, .normal), ("é", -3, .normal),  // 23...26
    ("<unused0>", 0, .unused),  // 27
  ]
  return TokenizerVocabulary(
    model: "llama", tokens: entries.map(\.0), tokenTypes: entries.map(\.2.rawValue),
    scores: entries.map(\.1), bosID: 1, eosID: 2, unknownID: 0, addBOS: true, addEOS: false,
    addSpacePrefix: addSpacePrefix)
}

/// The merge rule written the slow, obvious way: rescan every adjacent pair, merge the
/// highest-scoring one whose text is a token (leftmost on ties), stop when none is.
private func referenceEncode(_ text: String, _ v: TokenizerVocabulary) -> [Int32] {
  var index: [String: Int32] = [:]
  for (i, t) in v.tokens.enumerated() { index[t] = Int32(i) }
  var symbols = text.replacingOccurrences(of: " ", with: "▁").map(String.init)
  while true {
    var best: (at: Int, score: Float)? = nil
    for i in 0..<max(0, symbols.count - 1) {
      guard let id = index[symbols[i] + symbols[i + 1]] else { continue }
      let score = v.scores![Int(id)]
      if best == nil || score > best!.score { best = (i, score) }
    }
    guard let b = best else { break }
    symbols[b.at] += symbols[b.at + 1]
    symbols.remove(at: b.at + 1)
  }
  var ids: [Int32] = []
  for s in symbols {
    if let id = index[s] {
      ids.append(id)
    } else {
      for byte in s.utf8 {
        let hex = String(byte, radix: 16, uppercase: true)
        let name = "<0x" + (hex.count == 1 ? "0" : "") + hex + ">"
        ids.append(index[name] ?? v.unknownID!)
      }
    }
  }
  return ids
}

@Suite struct SentencePieceTokenizerTests {
  let tokenizer: Tokenizer

  init() throws {
    tokenizer = try Tokenizer(vocabulary: tinyVocabulary())
  }

  private func encode(_ s: String) -> [Int32] {
    tokenizer.encode(s, addSpecial: false, parseSpecial: true)
  }

  @Test func highestScoringPairMergesFirst() {
    #expect(encode("abc") == [17])  // bc (-0.5) first, then a+bc → abc
    #expect(encode("ab") == [15])
    #expect(encode("bcab") == [16, 15])
    #expect(encode("aaaa") == [20, 20])  // leftmost aa first, never a+aa+a
    #expect(encode("aaa") == [20, 12])
  }

  @Test func tiesGoToTheLeftmostPair() {
    // "cac": ca and ac score the same; ca is further left.
    #expect(encode("cac") == [23, 14])
    #expect(encode("aca") == [24, 12])
  }

  @Test func aTokenIsOnlyReachedThroughTokens() {
    // "xyz" is in the vocabulary but neither "xy" nor "yz" is, so no merge path leads to it,
    // and only x has a byte token: y and z become <unk>.
    #expect(encode("xyz") == [10, 0, 0])
  }

  @Test func spacesBecomeLowerOneEighthBlocks() {
    #expect(encode(" ab") == [19])
    #expect(encode("a b") == [12, 11, 13])
    #expect(encode("  a") == [11, 18])
    #expect(tokenizer.tokenID("▁ab") == 19)
  }

  @Test func addSpacePrefixPutsASpaceAtTheStartAndAfterSpecialTokens() throws {
    let prefixed = try Tokenizer(vocabulary: tinyVocabulary(addSpacePrefix: true))
    #expect(prefixed.encode("ab", addSpecial: false, parseSpecial: true) == [19])
    #expect(prefixed.encode("ab", addSpecial: true, parseSpecial: true) == [1, 19])
    #expect(prefixed.encode("a<turn>ab", addSpecial: false, parseSpecial: true) == [18, 21, 19])
    // Literal "<turn>" text is no special token, so nothing after it gets a prefix.
    #expect(prefixed.encode("a<turn>ab", addSpecial: false, parseSpecial: false).last == 15)
    // Without the flag nothing is added.
    #expect(encode("ab") == [15])
  }

  @Test func missingCharactersFallBackToByteTokens() {
    #expect(encode("€") == [4, 5, 6])
    #expect(encode("a🙂") == [12, 7, 8, 9, 5])
    #expect(encode("\n") == [3])
    // é is a token itself; ü (C3 BC) has no byte tokens at all.
    #expect(encode("é") == [26])
    #expect(encode("ü") == [0, 0])
  }

  @Test func specialAndUserDefinedTokens() {
    #expect(encode("a<turn>b") == [12, 21, 13])
    #expect(tokenizer.encode("a<turn>b", addSpecial: false, parseSpecial: false).contains(21) == false)
    // User-defined tokens are matched even when special parsing is off.
    #expect(tokenizer.encode("a\n\nb", addSpecial: false, parseSpecial: false) == [12, 22, 13])
    #expect(tokenizer.encode("a\n\n\nb", addSpecial: false, parseSpecial: true) == [12, 22, 3, 13])
    #expect(tokenizer.encode("ab", addSpecial: true, parseSpecial: true) == [1, 15])
    #expect(tokenizer.encode("", addSpecial: true, parseSpecial: true) == [1])
    #expect(tokenizer.encode("", addSpecial: false, parseSpecial: true) == [])
  }

  @Test func specialTokensSharingPrefixesAreFoundAmongAngleBrackets() throws {
    let entries: [(String, TokenType)] = [
      ("<unk>", .unknown), ("<a>", .control), ("<ab>", .control), ("<abc>", .control),  // 0...3
      ("<0x3C>", .byte), ("<0x3E>", .byte), ("a", .normal), ("b", .normal), ("c", .normal),  // 4...8
      ("<b", .userDefined),  // 9
    ]
    let t = try Tokenizer(
      vocabulary: TokenizerVocabulary(
        model: "llama", tokens: entries.map(\.0), tokenTypes: entries.map(\.1.rawValue),
        scores: [Float](repeating: 0, count: entries.count), unknownID: 0, addSpacePrefix: false))
    #expect(t.encode("<abc><ab><a>", addSpecial: false, parseSpecial: true) == [3, 2, 1])
    #expect(t.encode("<a<ab>>", addSpecial: false, parseSpecial: true) == [4, 6, 2, 5])
    #expect(t.encode("<ab", addSpecial: false, parseSpecial: true) == [4, 6, 7])
    #expect(t.encode("<<b>", addSpecial: false, parseSpecial: true) == [4, 9, 5])
    #expect(t.encode("<a>", addSpecial: false, parseSpecial: false) == [4, 6, 5])
    #expect(t.encode("<a><b", addSpecial: false, parseSpecial: false) == [4, 6, 5, 9])
  }

  @Test func piecesAndDecode() {
    #expect(tokenizer.piece(19, special: false) == Array(" ab".utf8))
    #expect(tokenizer.piece(5, special: false) == [0x82])
    #expect(tokenizer.piece(1, special: false) == [])
    #expect(tokenizer.piece(1, special: true) == Array("<s>".utf8))
    #expect(tokenizer.piece(22, special: false) == Array("\n\n".utf8))
    #expect(tokenizer.piece(27, special: true) == [])
    #expect(tokenizer.decode([1, 19, 11, 4, 5, 6, 3], special: false) == " ab €\n")
    #expect(tokenizer.decode([1, 19], special: true) == "<s> ab")
  }

  @Test func endOfGeneration() {
    #expect(tokenizer.isEndOfGeneration(2))
    #expect(!tokenizer.isEndOfGeneration(1))
    #expect(!tokenizer.isEndOfGeneration(21))
  }

  @Test func matchesTheSlowReferenceOnRandomText() {
    let v = tinyVocabulary()
    let alphabet: [Character] = ["a", "b", "c", " ", "€", "é", "x"]
    var rng = SplitMix64(seed: 7)
    for _ in 0..<500 {
      let length = Int(rng.next() % 24)
      let text = String((0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
      #expect(encode(text) == referenceEncode(text, v), "\(text.debugDescription)")
    }
  }

  @Test func scoresMustMatchTheTokens() {
    var v = tinyVocabulary()
    v.scores!.removeLast()
    #expect(throws: TokenizerError.scoreCountMismatch(tokens: 28, scores: 27)) {
      try Tokenizer(vocabulary: v)
    }
  }

  @Test func streamingAssemblesByteTokensSplitAcrossTokens() {
    var stream = StreamingDetokenizer(tokenizer: tokenizer)
    #expect(stream.append(18) == " a")
    #expect(stream.append(7) == "")  // F0
    #expect(stream.append(8) == "")  // 9F
    #expect(stream.append(9) == "")  // 99
    #expect(stream.pendingByteCount == 3)
    #expect(stream.append(5) == "🙂")  // 82
    #expect(stream.append(4) == "")  // E2
    #expect(stream.append(5) == "")  // 82
    #expect(stream.append(6) == "€")  // AC
    #expect(stream.append(11) == " ")
    #expect(stream.append(4) == "")
    // A non-continuation piece after a lead byte: the lead can never complete.
    #expect(stream.append(12) == "\u{FFFD}a")
    #expect(stream.flush() == "")
  }

  @Test func streamEqualsOneShotDecode() {
    let ids: [Int32] = [1, 18, 7, 8, 9, 5, 10, 11, 4, 5, 6, 22, 26, 19, 2]
    for special in [false, true] {
      var stream = StreamingDetokenizer(tokenizer: tokenizer, special: special)
      var text = ""
      for id in ids {
        let out = stream.append(id)
        #expect(!out.unicodeScalars.contains("\u{FFFD}"))
        text += out
      }
      text += stream.flush()
      #expect(text == tokenizer.decode(ids, special: special))
    }
  }
}
