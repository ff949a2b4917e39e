import Foundation
import TestSupport
import Testing
import Tokenizers

/// Gemma 3's vocabulary read from the real GGUF (pulled on first use).
private func gemma3Vocabulary() throws -> TokenizerVocabulary {
  try TokenizerVocabulary(metadata: TestModels.file("gemma3-270m").metadata)
}

/// Checks Gemma 3's SentencePiece tokenizer against llama.cpp's own output for the same strings.
@Suite struct GemmaTokenizerFixtureTests {
  /// A piece as llama-server reports it: text, or a list of bytes when not valid UTF-8 alone.
  enum Piece: Decodable {
    case text(String)
    case bytes([UInt8])

    init(from decoder: Decoder) throws {
      let c = try decoder.singleValueContainer()
      if let s = try? c.decode(String.self) {
        self = .text(s)
      } else {
        self = .bytes(try c.decode([UInt8].self))
      }
    }

    var bytes: [UInt8] {
      switch self {
      case .text(let s): Array(s.utf8)
      case .bytes(let b): b
      }
    }
  }

  struct Entry: Decodable {
    var model: String
    var string: String
    var ids: [Int32]
    var ids_add_special: [Int32]
    var ids_no_parse_special: [Int32]
    var pieces: [Piece]
    var detokenized: String
  }

  struct Fixture: Decodable {
    var entries: [Entry]
  }

  static func entries() throws -> [Entry] {
    try loadFixture("tokenize.json", as: Fixture.self).entries.filter { $0.model == "gemma3" }
  }

  @Test func gemma3MatchesLlamaCpp() throws {
    let tokenizer = try Tokenizer(vocabulary: try gemma3Vocabulary())
    let entries = try Self.entries()
    #expect(entries.count == 30)
    var matched = 0
    for e in entries {
      let ids = tokenizer.encode(e.string, addSpecial: false, parseSpecial: true)
      let withSpecial = tokenizer.encode(e.string, addSpecial: true, parseSpecial: true)
      let literal = tokenizer.encode(e.string, addSpecial: false, parseSpecial: false)
      #expect(ids == e.ids, "ids for \(e.string.debugDescription)")
      #expect(withSpecial == e.ids_add_special, "ids_add_special for \(e.string.debugDescription)")
      #expect(literal == e.ids_no_parse_special, "ids_no_parse_special for \(e.string.debugDescription)")
      #expect(e.ids.map { tokenizer.piece($0, special: true) } == e.pieces.map(\.bytes))
      #expect(tokenizer.decode(e.ids, special: true) == e.detokenized)
      matched +=
        [ids == e.ids, withSpecial == e.ids_add_special, literal == e.ids_no_parse_special]
        .filter { $0 }.count
    }
    #expect(matched == 90)
  }

  @Test func gemma3StreamingEqualsDecode() throws {
    let tokenizer = try Tokenizer(vocabulary: try gemma3Vocabulary())
    for e in try Self.entries() {
      var stream = StreamingDetokenizer(tokenizer: tokenizer, special: true)
      var text = ""
      for id in e.ids {
        let out = stream.append(id)
        #expect(!out.unicodeScalars.contains("\u{FFFD}"))
        text += out
      }
      text += stream.flush()
      #expect(text == e.detokenized)
    }
  }

  @Test func gemma3SpecialTokensAndEndOfGeneration() throws {
    let v = try gemma3Vocabulary()
    // Gemma's GGUF turns the SentencePiece space prefix off and BOS on.
    #expect(v.model == "llama")
    #expect(!v.addSpacePrefix)
    #expect(v.addBOS && !v.addEOS)
    let tokenizer = try Tokenizer(vocabulary: v)
    #expect(tokenizer.vocabularySize == 262_144)
    #expect(tokenizer.bosID == 2)
    #expect(tokenizer.eosID == 1)
    #expect(tokenizer.tokenID("<end_of_turn>") == 106)
    #expect(tokenizer.tokenID("<start_of_turn>") == 105)
    #expect(tokenizer.tokenID("▁world") == 1902)
    #expect(tokenizer.tokenID("<0x0A>") != nil)
    #expect(tokenizer.isEndOfGeneration(1))  // <eos>
    #expect(tokenizer.isEndOfGeneration(106))  // <end_of_turn>
    #expect(!tokenizer.isEndOfGeneration(2))
    #expect(!tokenizer.isEndOfGeneration(105))
    #expect(!tokenizer.isEndOfGeneration(1902))
    #expect(tokenizer.piece(106, special: false) == [])
    #expect(tokenizer.piece(106, special: true) == Array("<end_of_turn>".utf8))
    #expect(tokenizer.piece(1902, special: false) == Array(" world".utf8))
    // With no space prefix nothing is stripped after BOS, in decode or in the stream.
    let ids = tokenizer.encode(" Hello", addSpecial: true, parseSpecial: true)
    #expect(ids.first == 2)
    #expect(tokenizer.decode(ids, special: false) == " Hello")
    // A chat turn as the template renders it.
    let turn = tokenizer.encode(
      "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n", addSpecial: true, parseSpecial: true)
    #expect(turn.first == 2)
    #expect(turn.filter { $0 == 105 }.count == 2)
    #expect(turn.filter { $0 == 106 }.count == 1)
  }

  /// Cases beyond the shared fixture, captured from llama.cpp itself (llama-cpp-python 0.3.36,
  /// vocab-only load of the same GGUF): whitespace runs longer than any whitespace token,
  /// combining marks, zero-width joiners, NUL, unassigned code points (byte fallback), and
  /// special-token text at odd places. Each pair is (parse special, literal when different).
  @Test func gemma3AwkwardStringsMatchLlamaCpp() throws {
    let tokenizer = try Tokenizer(vocabulary: try gemma3Vocabulary())
    let cases: [(String, [Int32], [Int32]?)] = [
      ("   ", [139], nil),
      ("  leading", [138, 26016], nil),
      ("trailing space ", [136697, 2557, 236743], nil),
      ("multiple   spaces   here", [43819, 139, 35220, 139, 8472], nil),
      ("\n\n\n\n\n", [111], nil),
      (" \n ", [236743, 107, 236743], nil),
      ("\t\t\t", [255970], nil),
      ("\r", [251], nil),
      ("x\u{A0}y", [236781, 432, 398, 236762], nil),
      ("日本語のテキスト", [94951, 236945, 95830], nil),
      ("👨\u{200D}👩\u{200D}👧\u{200D}👦 family", [243874, 237243, 243767, 237243, 244814, 237243, 244990, 2523], nil),
      ("e\u{301} é", [236744, 238288, 1559], nil),
      (
        "<start_of_turn>model\n<end_of_turn>", [105, 4368, 107, 106],
        [236820, 3041, 236779, 1340, 236779, 887, 236813, 4368, 107, 236820, 643, 236779, 1340, 236779, 887, 236813]
      ),
      ("<bos>hi<eos>", [2, 2202, 1], [236820, 46757, 236813, 2202, 236820, 211827, 236813]),
      ("<unused0><pad><mask>", [6, 0, 4], [236820, 63634, 236771, 1798, 13039, 1798, 1080, 236813]),
      ("[multimodal]", [5], nil),  // user-defined: matched even when parsing is off
      ("<<start_of_turn>>", [236820, 105, 236813], [6143, 3041, 236779, 1340, 236779, 887, 6985]),
      ("\u{378}", [443, 422], nil),
      ("\u{F0000}", [481, 414, 366, 366], nil),
      ("hello\u{200B}world", [23391, 237141, 12392], nil),
      (
        "def f():\n\tif x:\n\t\treturn 1\n        pass",
        [2063, 517, 6141, 107, 255968, 584, 1123, 236787, 107, 255969, 2060, 236743, 236770, 107, 144, 4373], nil
      ),
      (String(repeating: " ", count: 33), [167, 138], nil),
      (String(repeating: "\n", count: 40), [137, 115], nil),
      ("a\u{0}b", [236746, 238, 236763], nil),
      ("<unk>", [3], [236820, 4984, 236813]),
    ]
    for (text, ids, literal) in cases {
      #expect(tokenizer.encode(text, addSpecial: false, parseSpecial: true) == ids, "\(text.debugDescription)")
      #expect(
        tokenizer.encode(text, addSpecial: false, parseSpecial: false) == (literal ?? ids),
        "literal \(text.debugDescription)")
      #expect(tokenizer.encode(text, addSpecial: true, parseSpecial: true) == [2] + ids)
      #expect(tokenizer.decode(ids, special: true) == text)
    }
  }

  /// Characters outside the vocabulary are spelled with `<0xNN>` byte tokens, and decoding
  /// them one at a time reassembles the character.
  @Test func gemma3ByteFallbackRoundTrips() throws {
    let tokenizer = try Tokenizer(vocabulary: try gemma3Vocabulary())
    // U+0378 (unassigned) and U+F0000 (supplementary private use) are not in the vocabulary.
    let text = "a\u{0378}b\u{F0000}"
    let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: true)
    let byteIDs = ids.filter { tokenizer.tokenType($0) == .byte }
    #expect(byteIDs.count == 6)
    #expect(tokenizer.decode(ids, special: false) == text)
    var stream = StreamingDetokenizer(tokenizer: tokenizer)
    var out = ""
    for id in ids {
      let piece = stream.append(id)
      #expect(!piece.unicodeScalars.contains("\u{FFFD}"))
      out += piece
    }
    #expect(out + stream.flush() == text)
  }

  /// The greedy-generation fixture doubles as a tokenizer oracle: its prompt ids come from
  /// llama-server and its text from llama.cpp's streaming detokenizer.
  @Test func gemma3GreedyPromptsAndCompletions() throws {
    let tokenizer = try Tokenizer(vocabulary: try gemma3Vocabulary())
    let fixture = try loadFixture("greedy_gemma3.json", as: GreedyFixture.self)
    #expect(!fixture.entries.isEmpty)
    for e in fixture.entries {
      #expect(tokenizer.encode(e.prompt, addSpecial: true, parseSpecial: true) == e.prompt_ids_with_bos_as_server_adds)
      var stream = StreamingDetokenizer(tokenizer: tokenizer)
      var text = ""
      for id in e.generated_ids { text += stream.append(id) }
      text += stream.flush()
      #expect(text == e.generated_text)
    }
  }

  /// The 262k-token vocabulary must not make start-up slow. Generous bound: the machine is
  /// shared; the typical figure is printed.
  @Test func gemma3LoadsQuickly() throws {
    let metadata = try TestModels.file("gemma3-270m").metadata
    var best = Double.infinity
    for _ in 0..<3 {
      let start = DispatchTime.now().uptimeNanoseconds
      let tokenizer = try Tokenizer(vocabulary: TokenizerVocabulary(metadata: metadata))
      let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      #expect(tokenizer.vocabularySize == 262_144)
      best = min(best, seconds)
    }
    print("Gemma 3 tokenizer from GGUF metadata: \(String(format: "%.3f", best)) s")
    #expect(best < 1.0)
  }
}
