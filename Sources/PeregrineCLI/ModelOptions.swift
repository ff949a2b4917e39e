import ArgumentParser
import Engine
import Foundation
import GGUF
import Hub
import Kernels
import Models
import Tokenizers

/// `--model`, `--threads` and `--numerics`, shared by every command that loads a model.
struct ModelOptions: ParsableArguments {
  @Option(name: .shortAndLong, help: "A GGUF file, or a known model name (\(ModelCatalog.entries.map(\.name).joined(separator: ", "))).")
  var model: String = ModelCatalog.defaultModel

  // Optional so that help shows "all cores" rather than this machine's count next to it.
  @Option(name: [.customShort("t"), .customLong("threads")], help: "Worker threads (default: all cores).")
  var threadCount: Int?

  var threads: Int { threadCount ?? ProcessInfo.processInfo.activeProcessorCount }

  @Option(
    help: ArgumentHelp(
      "Float summation order: exact (llama.cpp's, bit-identical outputs) or fast (each quantized kernel's fastest order, about 1.7x Gemma 3's exact prefill; f32 attention everywhere).",
      valueName: "exact|fast"))
  var numerics: Numerics = .exact

  /// llama-server's spelling: a Jinja chat template used instead of the model's own (e.g. one that
  /// declares tools, or thinks).
  @Option(
    name: .customLong("chat-template-file"),
    help: ArgumentHelp("A Jinja chat template file used instead of the model's tokenizer.chat_template.", valueName: "path"))
  var chatTemplateFile: String?

  /// The model's chat template, or the `--chat-template-file` one (which must parse: no silent
  /// fallback to a hand-written renderer).
  func chatTemplate(_ file: GGUFFile, vocabulary: TokenizerVocabulary) throws -> ChatTemplate {
    let template = ChatTemplate(source: try chatTemplateSource(file), vocabulary: vocabulary)
    if let path = chatTemplateFile, case .jinja = template {} else if let path = chatTemplateFile {
      throw CLIError("--chat-template-file \(path): the template does not parse, or fails on a one-message conversation")
    }
    return template
  }

  /// The template source: the file when given, else the model's own.
  func chatTemplateSource(_ file: GGUFFile) throws -> String? {
    guard let path = chatTemplateFile else { return file.metadata["tokenizer.chat_template"]?.string }
    do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
      throw CLIError("--chat-template-file \(path): \(error.localizedDescription)")
    }
  }

  func validate() throws {
    guard threads >= 1 && threads <= 256 else { throw ValidationError("--threads must be between 1 and 256") }
  }

  /// Resolves (pulling a known model if needed) and opens the GGUF file.
  func openFile() throws -> GGUFFile {
    let path: URL
    do {
      path = try ModelStore().resolve(model, pullIfMissing: true) { message in
        FileHandle.standardError.write(Data((message + "\n").utf8))
      }
    } catch { throw CLIError(error) }
    do { return try GGUFFile(path: path.path) } catch { throw CLIError("\(path.path): \(error)") }
  }

  /// The file, its model and its tokenizer.
  func load() throws -> LoadedModel {
    let file = try openFile()
    do {
      let pool = ThreadPool(threadCount: threads)
      let model = try ModelRegistry.load(file, pool: pool, numerics: numerics)
      for warning in model.info.warnings { printError("warning: \(warning)") }
      let vocabulary = try TokenizerVocabulary(metadata: file.metadata)
      // Sampled ids run up to the embedding's rows; each must be a token the tokenizer can show.
      guard vocabulary.tokens.count == model.info.vocabularySize else {
        throw CLIError(
          "the vocabulary has \(vocabulary.tokens.count) tokens but token_embd.weight has \(model.info.vocabularySize) rows")
      }
      return LoadedModel(
        file: file, model: model, pool: pool, tokenizer: try Tokenizer(vocabulary: vocabulary), addBOS: vocabulary.addBOS,
        template: try chatTemplate(file, vocabulary: vocabulary),
        samplingDefaults: SamplingDefaults(metadata: file.metadata))
    } catch { throw CLIError(error) }
  }

  /// The model as the user named it: the catalog name, or the file's name without `.gguf`.
  var displayName: String { ModelOptions.displayName(for: model) }

  static func displayName(for model: String) -> String {
    guard model.hasSuffix(".gguf") || model.contains("/") else { return model }
    let file = URL(fileURLWithPath: model).lastPathComponent
    return file.hasSuffix(".gguf") ? String(file.dropLast(5)) : file
  }

  /// Just the tokenizer (no weights touched).
  func loadTokenizer() throws -> Tokenizer {
    let file = try openFile()
    do { return try Tokenizer(vocabulary: TokenizerVocabulary(metadata: file.metadata)) } catch { throw CLIError(error) }
  }
}

struct LoadedModel {
  var file: GGUFFile
  var model: any LanguageModel
  /// The model's worker threads; a draft model shares them (two spinning pools would fight over cores).
  var pool: ThreadPool
  var tokenizer: Tokenizer
  var addBOS: Bool
  var template: ChatTemplate
  /// The file's recommended sampling (`general.sampling.*`), else llama.cpp's defaults.
  var samplingDefaults: SamplingDefaults
}

/// Sampling flags shared by `run` and `chat`. A flag left out takes the model's recommended value
/// (GGUF `general.sampling.*`), else llama.cpp's default: the same rule as the server's for requests.
struct SamplingOptions: ParsableArguments {
  @Option(help: "Sampling temperature; 0 is greedy (default: the model's recommendation, else 0.8).")
  var temperature: Float?
  @Option(name: .customLong("top-k"), help: "Keep the k most likely tokens; 0 = off (default: the model's, else 40).")
  var topK: Int?
  @Option(name: .customLong("top-p"), help: "Nucleus sampling mass; 1 = off (default: the model's, else 0.95).")
  var topP: Float?
  @Option(
    name: .customLong("min-p"),
    help: "Drop tokens less likely than this times the top token's probability; 0 = off (default: the model's, else 0.05).")
  var minP: Float?
  @Option(
    name: .customLong("repeat-penalty"),
    help: "Divide the logits of tokens seen in the last 64 by this; 1 = off (default: the model's, else 1).")
  var repeatPenalty: Float?
  @Option(
    name: .customLong("frequency-penalty"),
    help: "Subtract this times a token's count in the last 64 tokens from its logit; 0 = off.")
  var frequencyPenalty: Float = 0
  @Option(
    name: .customLong("presence-penalty"), help: "Subtract this from the logit of every token seen in the last 64; 0 = off.")
  var presencePenalty: Float = 0
  @Option(help: "Random seed; the same seed reproduces a run (default: a fresh one each time).") var seed: UInt64?

  /// The parameters for a model whose recommendation is `defaults`; `seed` is the one drawn when
  /// `--seed` is absent.
  func parameters(_ defaults: SamplingDefaults, seed fresh: UInt64) -> SamplingParameters {
    var p = defaults.parameters
    if let temperature { p.temperature = temperature }
    if let topK { p.topK = topK }
    if let topP { p.topP = topP }
    if let minP { p.minP = minP }
    if let repeatPenalty { p.repetitionPenalty = repeatPenalty }
    p.frequencyPenalty = frequencyPenalty
    p.presencePenalty = presencePenalty
    p.seed = seed ?? fresh
    return p
  }

  func validate() throws {
    if let why = parameters(.llamaCpp, seed: 0).validationError { throw ValidationError(why) }
  }
}

func printError(_ message: String) {
  FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// `--kv-cache-type` for the single-sequence commands (`run`, `chat`); the server's own spelling of it
/// explains the budget it shares.
struct KVCacheOption: ParsableArguments {
  @Option(
    name: .customLong("kv-cache-type"),
    help: ArgumentHelp(
      "How the KV cache stores keys and values (q8_0: f32 attention, not bit-identical to llama.cpp).",
      valueName: "f16|q8_0"))
  var type: KVCacheType = .f16
}

extension Numerics: ExpressibleByArgument {}
/// `--kv-cache-type f16|q8_0`: anything else is refused with the list of valid values.
extension KVCacheType: ExpressibleByArgument {}
