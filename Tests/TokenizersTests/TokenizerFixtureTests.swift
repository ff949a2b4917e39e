import Foundation
import TestSupport
import Testing
import Tokenizers

/// Checks SmolLM2's tokenizer against llama.cpp's own output for the same strings.
@Suite struct TokenizerFixtureTests {
  struct Entry: Decodable {
    var model: String
    var string: String
    var ids: [Int32]
    var ids_add_special: [Int32]
    var ids_no_parse_special: [Int32]
    var detokenized: String
  }

  struct Fixture: Decodable {
    var entries: [Entry]
  }

  static func entries(model: String) throws -> [Entry] {
    let url = URL(fileURLWithPath: referenceDirectory() + "/tokenize.json")
    let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    return fixture.entries.filter { $0.model == model }
  }

  @Test func smolLM2MatchesLlamaCpp() throws {
    let tokenizer = try Tokenizer(vocabulary: try smolLM2Vocabulary())
    let entries = try Self.entries(model: "smollm2")
    #expect(entries.count == 30)
    var matched = 0
    for e in entries {
      let ids = tokenizer.encode(e.string, addSpecial: false, parseSpecial: true)
      let withSpecial = tokenizer.encode(e.string, addSpecial: true, parseSpecial: true)
      let literal = tokenizer.encode(e.string, addSpecial: false, parseSpecial: false)
      #expect(ids == e.ids, "ids for \(e.string.debugDescription)")
      #expect(
        withSpecial == e.ids_add_special, "ids_add_special for \(e.string.debugDescription)")
      #expect(literal == e.ids_no_parse_special, "ids_no_parse_special for \(e.string.debugDescription)")
      #expect(tokenizer.decode(e.ids, special: true) == e.detokenized)
      matched +=
        [ids == e.ids, withSpecial == e.ids_add_special, literal == e.ids_no_parse_special]
        .filter { $0 }.count
    }
    #expect(matched == 90)
  }

  @Test func smolLM2StreamingEqualsDecode() throws {
    let tokenizer = try Tokenizer(vocabulary: try smolLM2Vocabulary())
    for e in try Self.entries(model: "smollm2") {
      var stream = StreamingDetokenizer(tokenizer: tokenizer, special: true)
      var text = ""
      for id in e.ids {
        let out = stream.append(id)
        // Whatever is emitted must already be final: no replacement characters.
        #expect(!out.unicodeScalars.contains("\u{FFFD}"))
        text += out
      }
      text += stream.flush()
      #expect(text == e.detokenized)
    }
  }

  @Test func smolLM2SpecialTokensAndEndOfGeneration() throws {
    let tokenizer = try Tokenizer(vocabulary: try smolLM2Vocabulary())
    #expect(tokenizer.vocabularySize == 49152)
    #expect(tokenizer.bosID == 1)
    #expect(tokenizer.eosID == 2)
    #expect(tokenizer.tokenID("<|im_end|>") == 2)
    #expect(tokenizer.tokenID("Ġworld") == 905)
    #expect(tokenizer.isEndOfGeneration(2))
    #expect(tokenizer.isEndOfGeneration(0))  // <|endoftext|>
    #expect(!tokenizer.isEndOfGeneration(1))
    #expect(!tokenizer.isEndOfGeneration(905))
    #expect(tokenizer.piece(2, special: false) == [])
    #expect(tokenizer.piece(2, special: true) == Array("<|im_end|>".utf8))
    #expect(tokenizer.piece(905, special: false) == Array(" world".utf8))
  }

  struct GreedyEntry: Decodable {
    var prompt: String
    var prompt_ids_with_bos_as_server_adds: [Int32]
    var generated_ids: [Int32]
    var generated_text: String
  }

  struct GreedyFixture: Decodable {
    var entries: [GreedyEntry]
  }

  /// The greedy-generation fixture doubles as a tokenizer oracle: its prompt ids come from
  /// llama-server and its text from llama.cpp's streaming detokenizer.
  @Test func smolLM2GreedyPromptsAndCompletions() throws {
    let tokenizer = try Tokenizer(vocabulary: try smolLM2Vocabulary())
    let url = URL(fileURLWithPath: referenceDirectory() + "/greedy_smollm2.json")
    let fixture = try JSONDecoder().decode(GreedyFixture.self, from: Data(contentsOf: url))
    #expect(!fixture.entries.isEmpty)
    for e in fixture.entries {
      let ids = tokenizer.encode(e.prompt, addSpecial: true, parseSpecial: true)
      #expect(ids == e.prompt_ids_with_bos_as_server_adds)
      var stream = StreamingDetokenizer(tokenizer: tokenizer)
      var text = ""
      for id in e.generated_ids { text += stream.append(id) }
      text += stream.flush()
      #expect(text == e.generated_text)
    }
  }
}
