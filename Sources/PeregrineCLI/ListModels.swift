import ArgumentParser
import Foundation
import GGUF
import Hub

/// `peregrine list`: the models in the cache, as `ollama list` shows its own.
struct ListModels: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List downloaded models: name, size, architecture, parameters, quantization.",
    discussion: "Reads the model cache ($PEREGRINE_MODELS or ~/.cache/peregrine/models). `peregrine pull --help` lists what can be pulled.")

  @Flag(help: "Print one JSON array instead of a table.") var json = false

  struct Row: Encodable {
    var name: String
    var path: String
    var bytes: Int
    var architecture: String
    var parameters: Int
    var quantization: String
    var context_length: Int?
  }

  func run() throws {
    let store = ModelStore()
    var rows: [Row] = []
    for url in store.downloadedFiles() {
      let name = store.catalogEntry(forFile: url)?.name ?? url.deletingPathExtension().lastPathComponent
      let bytes = fileSize(url)
      guard let file = try? GGUFFile(path: url.path) else {
        rows.append(Row(name: name, path: url.path, bytes: bytes, architecture: "unreadable", parameters: 0, quantization: "?"))
        continue
      }
      rows.append(
        Row(
          name: name, path: url.path, bytes: bytes, architecture: file.architecture ?? "?",
          parameters: file.parameterCount, quantization: file.quantizationName, context_length: file.trainedContextLength))
    }
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
      print(String(decoding: try encoder.encode(rows), as: UTF8.self))
      return
    }
    if rows.isEmpty {
      print("No models in \(store.directory.path). Pull one (`peregrine pull`), or pass any GGUF file to --model.")
      return
    }
    let table = [["NAME", "SIZE", "ARCH", "PARAMS", "QUANT", "CONTEXT"]]
      + rows.map {
        [$0.name, mib($0.bytes), $0.architecture, $0.parameters > 0 ? parameterCount($0.parameters) : "?", $0.quantization,
         $0.context_length.map(String.init) ?? "?"]
      }
    printTable(table)
    print("\n\(rows.count) model\(rows.count == 1 ? "" : "s") in \(store.directory.path)")
  }
}

/// A file's size in bytes, through symbolic links (a cache may link to models kept elsewhere).
func fileSize(_ url: URL) -> Int {
  (try? FileManager.default.attributesOfItem(atPath: url.resolvingSymlinksInPath().path)[.size] as? Int) ?? 0
}

/// Left-aligned columns separated by two spaces.
func printTable(_ rows: [[String]]) {
  guard let columns = rows.map(\.count).max() else { return }
  let widths = (0..<columns).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
  for row in rows {
    let cells = row.enumerated().map { c, cell in
      c == row.count - 1 ? cell : cell.padding(toLength: widths[c] + 2, withPad: " ", startingAt: 0)
    }
    print(cells.joined())
  }
}
