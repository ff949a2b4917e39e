import Foundation
import GGUF
import Hub
import Kernels
import Models
import Tokenizers

/// Real models for tests, fetched into the normal model cache on first use so that `swift test`
/// works on a machine that has never seen them.
public enum TestModels {
  private static let lock = NSLock()
  nonisolated(unsafe) private static var files: [String: GGUFFile] = [:]
  nonisolated(unsafe) private static var models: [String: any LanguageModel] = [:]

  /// Path of a catalog model, pulled if needed.
  public static func path(_ name: String) throws -> String {
    lock.lock()
    defer { lock.unlock() }
    return try ModelStore().resolve(name, pullIfMissing: true, progress: { print($0) }).path
  }

  /// The parsed GGUF of a catalog model, shared between tests.
  public static func file(_ name: String) throws -> GGUFFile { try file(atPath: path(name)) }

  /// The loaded model, shared between tests (models are immutable; states are per test).
  public static func model(_ name: String, numerics: Numerics = .exact) throws -> any LanguageModel {
    try model(atPath: path(name), numerics: numerics)
  }

  /// The parsed GGUF at `path`, shared between tests.
  public static func file(atPath path: String) throws -> GGUFFile {
    lock.lock()
    defer { lock.unlock() }
    if let f = files[path] { return f }
    let f = try GGUFFile(path: path)
    files[path] = f
    return f
  }

  /// The model at `path`, loaded once per summation order and shared between tests.
  public static func model(atPath path: String, numerics: Numerics = .exact) throws -> any LanguageModel {
    let f = try file(atPath: path)
    lock.lock()
    defer { lock.unlock() }
    let key = "\(path)/\(numerics)"
    if let m = models[key] { return m }
    let m = try ModelRegistry.load(f, pool: ThreadPool(threadCount: 2), numerics: numerics)
    models[key] = m
    return m
  }
}

/// The llama.cpp reference fixtures the repository carries (`Tests/Fixtures/reference`).
public func referenceDirectory() -> String {
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  return root.appendingPathComponent("Fixtures/reference").path
}

/// Decodes a JSON fixture from the reference directory.
public func loadFixture<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
  let data = try Data(contentsOf: URL(fileURLWithPath: referenceDirectory() + "/" + name))
  return try JSONDecoder().decode(T.self, from: data)
}

/// `greedy_*.json`.
public struct GreedyFixture: Decodable, Sendable {
  public struct TopLogprob: Decodable, Sendable {
    public var id: Int32
    public var logprob: Double
  }
  public struct Step: Decodable, Sendable {
    public var id: Int32
    public var logprob: Double
    public var top_logprobs: [TopLogprob]
  }
  public struct Entry: Decodable, Sendable {
    public var prompt: String
    public var prompt_ids_with_bos_as_server_adds: [Int32]
    public var generated_ids: [Int32]
    public var generated_text: String
    public var top10_per_step: [Step]
  }
  public var entries: [Entry]
}

/// Natural-log softmax of one row of logits.
public func logSoftmax(_ logits: ArraySlice<Float>) -> [Double] {
  let maxValue = Double(logits.max() ?? 0)
  var sum = 0.0
  for v in logits { sum += Foundation.exp(Double(v) - maxValue) }
  let logSum = Foundation.log(sum) + maxValue
  return logits.map { Double($0) - logSum }
}

/// SmolLM2's vocabulary read from the real GGUF (pulled on first use).
public func smolLM2Vocabulary() throws -> TokenizerVocabulary {
  try TokenizerVocabulary(metadata: TestModels.file("smollm2-135m").metadata)
}

/// `Tests/Fixtures/<name>`: fixtures that are not llama.cpp reference outputs on the real models.
public func fixturePath(_ name: String) -> String {
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  return root.appendingPathComponent("Fixtures/\(name)").path
}
