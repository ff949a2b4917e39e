import ArgumentParser
import Foundation
import Hub

/// `peregrine rm`: deletes a model from the cache.
struct RemoveModel: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rm", abstract: "Delete a downloaded model from the model cache.",
    discussion: "Takes a catalog name (smollm2-135m) or the name of a file in the cache, as `peregrine list` shows them.")

  @Argument(help: "The models to delete.") var names: [String]

  func validate() throws {
    if names.isEmpty { throw ValidationError("name the model to delete (see `peregrine list`)") }
  }

  func run() throws {
    let store = ModelStore()
    for name in names {
      do {
        let removed = try store.remove(name)
        print("deleted \(removed.url.path) (\(mib(removed.bytes)))")
      } catch { throw CLIError(error) }
    }
  }
}
