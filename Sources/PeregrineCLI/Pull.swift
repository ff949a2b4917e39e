import ArgumentParser
import Foundation
import Hub

struct Pull: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Download a known model into the model cache ($PEREGRINE_MODELS or ~/.cache/peregrine/models).")

  @Argument(help: "Model name (\(ModelCatalog.entries.map(\.name).joined(separator: ", "))).")
  var name: String = ModelCatalog.defaultModel

  func run() throws {
    guard let entry = ModelCatalog.entry(named: name) else {
      throw CLIError(HubError.unknownModel(name, known: ModelCatalog.entries.map(\.name)))
    }
    do {
      let path = try ModelStore().pull(entry) { printError($0) }
      print(path.path)
    } catch { throw CLIError(error) }
  }
}
