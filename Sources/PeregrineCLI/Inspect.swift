import ArgumentParser
import Foundation
import GGUF

struct Inspect: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Show a model file's metadata and tensor table.")

  @OptionGroup var modelOptions: ModelOptions

  func run() throws {
    let file = try modelOptions.openFile()
    print("GGUF v\(file.version), \(file.metadata.count) metadata entries, \(file.tensors.count) tensors, alignment \(file.alignment)")
    print("")
    for key in file.metadata.keys {
      print("\(key) = \(file.metadata[key]!.description.replacingOccurrences(of: "\n", with: "\\n"))")
    }
    print("")
    let width = max(4, file.tensors.map(\.name.count).max() ?? 4)
    func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
    print("\(pad("name", width))  \(pad("type", 5))  \(pad("shape", 18))  bytes")
    var total = 0
    for t in file.tensors {
      total += t.byteCount
      print("\(pad(t.name, width))  \(pad(t.type.description, 5))  \(pad(t.shape.map(String.init).joined(separator: " x "), 18))  \(t.byteCount)")
    }
    print("")
    print("tensor bytes: \(total)")
  }
}
