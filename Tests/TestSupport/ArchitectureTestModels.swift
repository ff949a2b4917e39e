import Foundation
import GGUF
import Kernels
import Models
import Tokenizers

/// The architecture test models (qwen2, qwen3, qwen3moe, llama3): SmolLM2's weights laid out as
/// each architecture by `tools/make_test_models.py`, generated on first use into
/// `~/.cache/peregrine/test-models/<generator hash>/` (or read from `$PEREGRINE_TEST_MODELS_DIR`),
/// never committed. The generator pip-installs its pinned `gguf` and `numpy` when they are missing.
///
/// Their tests are a tier of their own (generating the files takes minutes the first time):
/// enabled by `PEREGRINE_ARCH_TESTS=1`, which `scripts/arch-tests.sh` sets.
public enum ArchitectureTestModels {
  public static let names = ["qwen2", "qwen3", "qwen3moe", "llama3"]

  /// Whether the architecture tier runs.
  public static var isEnabled: Bool { ProcessInfo.processInfo.environment["PEREGRINE_ARCH_TESTS"] == "1" }

  private static let lock = NSLock()
  nonisolated(unsafe) private static var directory: String?

  /// The repository root (tools/ and Tests/ live there).
  public static var repositoryRoot: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  }

  /// Path of a generated model, generating every model first if needed.
  public static func path(_ name: String) throws -> String {
    let source = try TestModels.path("smollm2-135m")
    lock.lock()
    defer { lock.unlock() }
    if directory == nil {
      if let given = ProcessInfo.processInfo.environment["PEREGRINE_TEST_MODELS_DIR"], !given.isEmpty {
        directory = given
      } else {
        directory = try generate(source: source)
      }
    }
    return directory! + "/" + name + ".gguf"
  }

  public static func file(_ name: String) throws -> GGUFFile { try TestModels.file(atPath: path(name)) }

  /// The loaded model, shared between tests.
  public static func model(_ name: String, numerics: Numerics = .exact) throws -> any LanguageModel {
    try TestModels.model(atPath: path(name), numerics: numerics)
  }

  public static func tokenizer(_ name: String) throws -> Tokenizer {
    try Tokenizer(vocabulary: TokenizerVocabulary(metadata: file(name).metadata))
  }

  /// llama.cpp's outputs on the model (`Tests/Fixtures/architectures/<name>.json`).
  public static func fixture(_ name: String) throws -> ArchitectureFixture {
    let url = repositoryRoot.appendingPathComponent("Tests/Fixtures/architectures/\(name).json")
    return try JSONDecoder().decode(ArchitectureFixture.self, from: Data(contentsOf: url))
  }

  /// sha256 of a file (coreutils' `sha256sum`).
  public static func sha256(_ path: String) throws -> String {
    let out = try run(["sha256sum", path])
    return String(out.split(separator: " ").first ?? "")
  }

  private static func generate(source: String) throws -> String {
    let cache = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/peregrine/test-models")
    let script = repositoryRoot.appendingPathComponent("tools/make_test_models.py").path
    print("generating the architecture test models (tools/make_test_models.py; minutes the first time)")
    let out = try run(["python3", script, "--source", source, "--cache-root", cache.path])
    guard let dir = out.split(separator: "\n").last.map(String.init), FileManager.default.fileExists(atPath: dir) else {
      throw GenerationFailed(output: out)
    }
    return dir
  }

  struct GenerationFailed: Error, CustomStringConvertible {
    var output: String
    var description: String { "tools/make_test_models.py failed: \(output)" }
  }

  @discardableResult
  private static func run(_ arguments: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = arguments
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard p.terminationStatus == 0 else { throw GenerationFailed(output: "\(arguments.joined(separator: " ")): \(text)") }
    return text
  }
}

/// `Tests/Fixtures/architectures/<model>.json` (tools/llamacpp_arch_fixtures.py).
public struct ArchitectureFixture: Decodable, Sendable {
  public struct Perplexity: Decodable, Sendable {
    public var ctx: Int
    public var ppl: Double
    public var error: Double
    public var chunks: Int?
  }
  public struct Message: Decodable, Sendable {
    public var role: String
    public var content: String
  }
  public struct Chat: Decodable, Sendable {
    public var messages: [Message]
    public var rendered_prompt: String
    public var prompt_ids: [Int32]
    public var reply_ids: [Int32]
    public var reply_text: String
    public var stop_type: String
  }
  public var model: String
  public var model_sha256: String
  public var perplexity: Perplexity
  public var entries: [GreedyFixture.Entry]
  /// A system message and a question (`peregrine chat --system`).
  public var chat: Chat
  /// A user message alone (`peregrine run --prompt`).
  public var chat_user_only: Chat
}
