import Foundation
import TestSupport
import Testing
import Tokenizers

/// llama.cpp's own tokenizer tests: its vocabulary-only GGUFs with the `.inp` strings and the
/// `.out` ids its `test-tokenizer-0` expects (no special tokens added, special text not parsed).
@Suite struct LlamaCppVocabularyTests {
  static let names = [
    "qwen2", "llama-bpe", "deepseek-llm", "phi-3", "qwen35", "gpt-2", "deepseek-coder", "falcon", "mpt",
    "starcoder", "refact", "command-r", "llama-spm",
  ]

  /// The `.inp` strings and `.out` ids of one vocabulary.
  static func cases(_ name: String) throws -> [(String, [Int32])] {
    let base = fixturePath("vocab/ggml-vocab-\(name).gguf")
    let input = String(decoding: try Data(contentsOf: URL(fileURLWithPath: base + ".inp")), as: UTF8.self)
    let output = String(decoding: try Data(contentsOf: URL(fileURLWithPath: base + ".out")), as: UTF8.self)
    var strings = input.components(separatedBy: "\n__ggml_vocab_test__\n")
    if strings.last == "" { strings.removeLast() }
    var lines = output.components(separatedBy: "\n")
    if lines.last == "" { lines.removeLast() }
    #expect(strings.count == lines.count)
    return zip(strings, lines).map { s, line in
      (s, line.split(separator: " ").map { Int32($0)! })
    }
  }

  @Test(arguments: names) func idsMatchLlamaCpp(name: String) throws {
    let tokenizer = try Tokenizer(vocabulary: LlamaCppVocabularies.vocabulary(name))
    let cases = try Self.cases(name)
    #expect(cases.count >= 40)
    var mismatches = 0
    for (text, expected) in cases {
      let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
      if ids != expected {
        mismatches += 1
        Issue.record("\(name): \(text.debugDescription) gave \(ids), llama.cpp \(expected)")
      }
    }
    #expect(mismatches == 0)
  }
}

/// `Tests/Fixtures/vocab/llama_tokenize.json` (tools/tokenizer_fixtures.py): llama-tokenize's ids
/// for 3,000 generated strings on the Qwen 2, Llama 3, DeepSeek LLM and Phi-3 vocabularies, and
/// for a subset on other vocabularies and on vocabularies with another `tokenizer.ggml.pre`.
@Suite struct LlamaTokenizeFixtureTests {
  struct Config: Decodable, Sendable, CustomTestStringConvertible {
    var vocab: String
    var pre: String?
    var strings: [Int]
    var ids: [[Int32]]
    var ids_no_parse_special_where_different: [String: [Int32]]?
    var testDescription: String { vocab + (pre.map { " as " + $0 } ?? "") }
  }

  struct Fixture: Decodable {
    var strings: [String]
    var configs: [Config]
  }

  static let fixture: Fixture = {
    let data = try! Data(contentsOf: URL(fileURLWithPath: fixturePath("vocab/llama_tokenize.json")))
    return try! JSONDecoder().decode(Fixture.self, from: data)
  }()

  @Test func fixtureCoversTheRequiredVocabularies() {
    #expect(Self.fixture.strings.count >= 3400)
    for name in ["qwen2", "llama-bpe", "deepseek-llm", "phi-3"] {
      #expect(Self.fixture.configs.contains { $0.vocab == name && $0.pre == nil && $0.strings.count >= 3400 })
    }
  }

  /// The strings tell the pre-tokenizers apart: under each rewritten `tokenizer.ggml.pre`,
  /// llama.cpp's ids differ from the vocabulary's own on many strings, and Peregrine with the
  /// vocabulary's own pre-tokenizer does not reproduce them. (dbrx splits as Llama 3 does, and
  /// bailingmoe and ufakzeka differ from Qwen 2 only where the merges reach the same tokens.)
  @Test func fixtureTellsPreTokenizersApart() throws {
    let alike: Set<String> = ["dbrx", "bailingmoe", "ufakzeka"]
    for config in Self.fixture.configs where config.pre != nil && !alike.contains(config.pre!) {
      let base = try #require(Self.fixture.configs.first { $0.vocab == config.vocab && $0.pre == nil })
      var differing = 0
      for (k, index) in config.strings.enumerated() {
        if let j = base.strings.firstIndex(of: index), base.ids[j] != config.ids[k] { differing += 1 }
      }
      #expect(differing >= 5, "\(config.testDescription): only \(differing) strings differ from \(config.vocab)")
    }
    let tokenizer = try Tokenizer(vocabulary: LlamaCppVocabularies.vocabulary("llama-bpe"))
    let gpt4o = try #require(Self.fixture.configs.first { $0.pre == "gpt-4o" })
    let wrong = zip(gpt4o.strings, gpt4o.ids).filter { index, ids in
      tokenizer.encode(Self.fixture.strings[index], addSpecial: false, parseSpecial: true) != ids
    }
    #expect(wrong.count >= 5)
  }

  @Test(arguments: fixture.configs) func idsMatchLlamaTokenize(config: Config) throws {
    let tokenizer = try Tokenizer(vocabulary: LlamaCppVocabularies.vocabulary(config.vocab, pre: config.pre))
    var mismatches = 0
    for (k, index) in config.strings.enumerated() {
      let text = Self.fixture.strings[index]
      let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: true)
      if ids != config.ids[k] {
        mismatches += 1
        if mismatches <= 5 { Issue.record("\(text.debugDescription): \(ids), llama.cpp \(config.ids[k])") }
      }
      if let different = config.ids_no_parse_special_where_different {
        let literal = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
        let expected = different[String(k)] ?? config.ids[k]
        if literal != expected {
          mismatches += 1
          if mismatches <= 5 { Issue.record("literal \(text.debugDescription): \(literal), llama.cpp \(expected)") }
        }
      }
    }
    #expect(mismatches == 0, "\(mismatches) of \(config.strings.count) strings differ")
  }
}

/// End-of-generation sets and BOS rules, as llama.cpp's loader reports them for the same files
/// (`llama-tokenize -v`: "EOG token = …", "EOT token = …").
@Suite struct LlamaCppSpecialTokenTests {
  static let expected: [(name: String, eog: [Int32], eot: Int32?, bos: Int32?, addsBOS: Bool)] = [
    ("qwen2", [128247, 151643, 151645], 151645, 151643, false),
    ("llama-bpe", [128001, 128009], 128009, 128000, true),
    ("deepseek-llm", [100001], 100001, 100000, true),
    ("phi-3", [2, 32000, 32007], 32007, 1, true),
    ("qwen35", [128247, 151643, 151645], 151645, 151643, false),
    ("gpt-2", [50256], 50256, 50256, false),
    ("starcoder", [0, 4], 0, 0, false),
    ("command-r", [0, 255001], nil, 5, true),
    ("deepseek-coder", [32014], 32014, 32013, true),
    ("falcon", [11], 11, 11, false),
    ("refact", [0, 4, 18], 0, 0, false),
    ("mpt", [0], 0, 0, false),
    ("llama-spm", [2], nil, 1, true),
  ]

  @Test func endOfGenerationMatchesLlamaCpp() throws {
    for e in Self.expected {
      let tokenizer = try Tokenizer(vocabulary: LlamaCppVocabularies.vocabulary(e.name))
      #expect(tokenizer.endOfGenerationIDs == e.eog, "\(e.name)")
      #expect(tokenizer.eotID == e.eot, "\(e.name)")
      #expect(tokenizer.bosID == e.bos, "\(e.name)")
      #expect(tokenizer.addsBOS == e.addsBOS, "\(e.name)")
      for id in e.eog {
        #expect(tokenizer.isEndOfGeneration(id))
        // End-of-generation tokens are control tokens: not printed unless asked for.
        #expect(tokenizer.piece(id, special: false).isEmpty, "\(e.name) \(id)")
      }
    }
  }

  /// Phi-3's special tokens swallow the whitespace after them (llama.cpp's `rstrip` by model
  /// name), except `<s>`, `<unk>` and `<|endoftext|>`.
  @Test func phi3SpecialTokensStripTheSpaceAfterThem() throws {
    let tokenizer = try Tokenizer(vocabulary: LlamaCppVocabularies.vocabulary("phi-3"))
    let user = tokenizer.encode("<|user|>\n  Hi", addSpecial: false, parseSpecial: true)
    #expect(user == tokenizer.encode("<|user|>Hi", addSpecial: false, parseSpecial: true))
    let text = tokenizer.encode("<|endoftext|> Hi", addSpecial: false, parseSpecial: true)
    #expect(text != tokenizer.encode("<|endoftext|>Hi", addSpecial: false, parseSpecial: true))
  }
}
