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

  @Option(name: .shortAndLong, help: "Worker threads (default: all cores).")
  var threads: Int = ProcessInfo.processInfo.activeProcessorCount

  @Option(
    help: ArgumentHelp(
      "Float summation order: exact (llama.cpp's, bit-identical outputs) or fast (each quantized kernel's fastest order, about 1.7x Gemma 3's exact prefill; f32 attention everywhere).",
      valueName: "exact|fast"))
  var numerics: Numerics = .exact

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
      prepareWeights(model, pool: pool)
      let vocabulary = try TokenizerVocabulary(metadata: file.metadata)
      return LoadedModel(
        file: file, model: model, pool: pool, tokenizer: try Tokenizer(vocabulary: vocabulary), addBOS: vocabulary.addBOS,
        template: ChatTemplate(source: file.metadata["tokenizer.chat_template"]?.string, vocabulary: vocabulary))
    } catch { throw CLIError(error) }
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
}

/// Sampling flags shared by `run` and `chat`.
struct SamplingOptions: ParsableArguments {
  @Option(help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0.8
  @Option(name: .customLong("top-k"), help: "Keep the k most likely tokens (0 = off).") var topK: Int = 40
  @Option(name: .customLong("top-p"), help: "Nucleus sampling mass (1 = off).") var topP: Float = 0.95
  @Option(name: .customLong("min-p"), help: "Minimum probability relative to the top token (0 = off).") var minP: Float = 0.05
  @Option(name: .customLong("repeat-penalty"), help: "Repetition penalty (1 = off).") var repeatPenalty: Float = 1
  @Option(name: .customLong("frequency-penalty")) var frequencyPenalty: Float = 0
  @Option(name: .customLong("presence-penalty")) var presencePenalty: Float = 0
  @Option(help: "Random seed; the same seed reproduces a run.") var seed: UInt64 = 0

  var parameters: SamplingParameters {
    var p = SamplingParameters()
    p.temperature = temperature
    p.topK = topK
    p.topP = topP
    p.minP = minP
    p.repetitionPenalty = repeatPenalty
    p.frequencyPenalty = frequencyPenalty
    p.presencePenalty = presencePenalty
    p.seed = seed
    return p
  }

  func validate() throws {
    if let why = parameters.validationError { throw ValidationError(why) }
  }
}

/// Packs the model's weights now (`packWeights`), showing progress on a terminal: a multi-gigabyte
/// file takes seconds to repack, and the first token should not hide that wait.
func prepareWeights(_ model: any LanguageModel, pool: ThreadPool) {
  let terminal = isatty(2) != 0
  var shown = -1
  packWeights(model.weightMatrices, pool: pool) { done, total in
    guard terminal, total >= 64 << 20 else { return }
    let percent = done * 100 / total
    guard percent != shown else { return }
    shown = percent
    let line = String(format: "\rpreparing weights: %3d %% of %.2f GB", percent, Double(total) / 1e9)
    FileHandle.standardError.write(Data((line + (done == total ? "\r\u{1B}[K" : "")).utf8))
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
