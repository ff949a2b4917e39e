import Constraints
import Engine
import Foundation
import Templates
import TestSupport
import Testing
import Tokenizers

@Suite("JSON constraint on SmolLM2", .serialized)
struct JSONConstraintModelTests {
  /// Mask cost per step over the real 49k vocabulary, in states from cheap to worst (inside a
  /// string nearly every token is allowed, so the whole trie is walked).
  @Test(arguments: ["smollm2-135m", "gemma3-270m"])
  func maskIsFastOnTheRealVocabulary(model: String) throws {
    let tokenizer = try Tokenizer(vocabulary: TokenizerVocabulary(metadata: TestModels.file(model).metadata))
    let clock = ContinuousClock()
    let buildStart = clock.now
    let trie = TokenTrie(tokenizer: tokenizer)
    print("\(model): TokenTrie for \(trie.vocabularySize) tokens built in \(clock.now - buildStart)")
    let schema = try JSONValue(parsing: SchemaFixtures.person)
    var worst = Duration.zero
    for (label, prefix, free) in [("start", "", false), ("key", "{", false), ("in key", "{\"na", false),
      ("in string", "{\"name\": \"Ada L", false), ("value", "{\"name\": \"x\", \"age\":", false),
      ("mid UTF-8", "{\"name\": \"", false), ("in pet key", "{\"name\": \"x\", \"age\": 3, \"pet\": {\"ki", false),
      ("json_object key", "{\"ab", true), ("json_object value", "{\"ab\": [1, \"x", true)] {
      var c = try JSONConstraint(schema: free ? nil : schema, vocabulary: trie)
      try c.advance(bytes: Array(prefix.utf8) + (label == "mid UTF-8" ? [0xE6] : []))
      var mask = [Bool](repeating: false, count: trie.vocabularySize)
      var allowed = 0
      let runs = 20
      let t0 = clock.now
      for _ in 0..<runs { allowed = mask.withUnsafeMutableBufferPointer { c.allowedTokens(into: $0) } }
      let perStep = (clock.now - t0) / runs
      worst = max(worst, perStep)
      var logits = [Float](repeating: 0, count: trie.vocabularySize)
      let t1 = clock.now
      c.mask(logits: &logits)
      print("\(model) mask after \(label) (\(prefix)): \(allowed) tokens allowed, \(perStep) per step, logits \(clock.now - t1)")
      #expect(allowed > 0)
      // The walk agrees with feeding each token on its own.
      var disagreements = 0
      for id in 0..<Int32(trie.vocabularySize) {
        var copy = c
        if ((try? copy.advance(token: id)) != nil) != mask[Int(id)] { disagreements += 1 }
      }
      #expect(disagreements == 0, "\(label)")
    }
    // Loose bound: timings are noisy on the shared machine; the printed figures are the measurement.
    #expect(worst < .milliseconds(50))
  }

  @Test func greedyGenerationFollowsTheSchema() throws {
    let tokenizer = try Tokenizer(vocabulary: smolLM2Vocabulary())
    let generator = Generator(model: try TestModels.model("smollm2-135m"), tokenizer: tokenizer)
    let trie = TokenTrie(tokenizer: tokenizer)
    let metadata = try TestModels.file("smollm2-135m").metadata
    let template = ChatTemplate(source: metadata["tokenizer.chat_template"]?.string)
    let schemaText = #"{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},"languages":{"type":"array","items":{"type":"string"},"maxItems":3}},"required":["name","age","languages"],"additionalProperties":false}"#
    let schema = try JSONValue(parsing: schemaText)
    for (format, prompt) in [
      (nil as JSONValue?, "Paris is the capital of France. Reply with a JSON object with the keys city and country."),
      (schema, "Give Ada Lovelace's name, age and languages as JSON."),
    ] {
      let text = try template.render([ChatMessage(role: "user", content: prompt)])
      var options = GenerationOptions()
      options.maxTokens = 160
      options.sampling = .greedy
      options.constraint = try JSONConstraint(schema: format, vocabulary: trie)
      let clock = ContinuousClock()
      let t0 = clock.now
      let r = try generator.generate(promptIDs: tokenizer.encode(text, addSpecial: false, parseSpecial: true), options: options)
      print("constrained output (\(r.generatedIDs.count) tokens, \(clock.now - t0)): \(r.text)")
      #expect(r.finishReason == .stop, "\(r.text)")
      let parsed = try? JSONSerialization.jsonObject(with: Data(r.text.utf8))
      #expect(parsed is [String: Any], "\(r.text)")
      let value = try JSONValue(parsing: r.text)
      if let format { #expect(validates(value, format, root: format), "\(r.text)") }
    }
  }

  @Test func inferenceEngineHonoursTheConstraint() async throws {
    let tokenizer = try Tokenizer(vocabulary: smolLM2Vocabulary())
    var configuration = EngineConfiguration()
    configuration.kvCacheBytes = 64 << 20
    let engine = try InferenceEngine(
      model: try TestModels.model("smollm2-135m"), tokenizer: tokenizer, configuration: configuration)
    let trie = TokenTrie(tokenizer: tokenizer)
    let template = ChatTemplate(source: try TestModels.file("smollm2-135m").metadata["tokenizer.chat_template"]?.string)
    let prompt = try template.render([ChatMessage(role: "user", content: "Name three colors as a JSON object.")])
    let schema = try JSONValue(parsing: #"{"type":"object","properties":{"colors":{"type":"array","items":{"type":"string"},"minItems":3,"maxItems":3}},"required":["colors"],"additionalProperties":false}"#)
    let request = EngineRequest(
      promptIDs: tokenizer.encode(prompt, addSpecial: false, parseSpecial: true), maxTokens: 120,
      constraint: try JSONConstraint(schema: schema, vocabulary: trie))
    let (tokens, completion) = await InferenceEngineTests.collect(try engine.submit(request))
    let text = tokens.map(\.text).joined()
    print("engine constrained output: \(text)")
    #expect(completion?.finishReason == .stop)
    let value = try JSONValue(parsing: text)
    #expect(validates(value, schema, root: schema), "\(text)")
    await engine.shutdown(gracePeriod: .seconds(1))
  }
}
