import ArgumentParser
import Engine
import Foundation
import GGUF
import Hub
import Tokenizers

/// `peregrine show`: a model's card: what it is, its limits, its chat template and the sampling it
/// gets by default. Reads the header only; no weights are loaded.
struct Show: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show a model's architecture, size, context, chat template and default sampling.",
    discussion: "`peregrine inspect` prints every metadata key and the tensor table instead.")

  @OptionGroup var modelOptions: ModelOptions
  @Flag(help: "Print only the chat template.") var template = false

  func run() throws {
    let file = try modelOptions.openFile()
    let source = file.metadata["tokenizer.chat_template"]?.string
    if template {
      print(source ?? "(the file has no chat template; Peregrine uses its built-in ChatML template)")
      return
    }
    let path = try ModelStore().resolve(modelOptions.model, pullIfMissing: false)
    let bytes = fileSize(path)
    let vocabulary = try? TokenizerVocabulary(metadata: file.metadata)
    var rows: [[String]] = [
      ["model", modelOptions.displayName],
      ["file", "\(path.path) (\(mib(bytes)))"],
    ]
    if let name = file.metadata["general.name"]?.string { rows.append(["name", name]) }
    rows.append(["architecture", file.architecture ?? "?"])
    rows.append(["parameters", "\(parameterCount(file.parameterCount)) (\(file.parameterCount))"])
    rows.append(["quantization", file.quantizationName])
    if let context = file.trainedContextLength { rows.append(["context", "\(context) tokens"]) }
    if let vocabulary {
      rows.append(["vocabulary", "\(vocabulary.tokens.count) tokens (\(vocabulary.model)\(vocabulary.pre.map { ", pre-tokenizer \($0)" } ?? ""))"])
    }
    if let license = file.metadata["general.license"]?.string { rows.append(["license", license]) }
    rows.append(["sampling", SamplingDefaults(metadata: file.metadata).summary])
    if let entry = ModelStore().catalogEntry(forFile: path) { rows.append(["catalog", entry.summary]) }
    printTable(rows)
    print("")
    if let source {
      print("chat template (from the file; `--template` prints it alone):")
      print(source)
    } else {
      print("chat template: none in the file; Peregrine uses its built-in ChatML template")
    }
  }
}
