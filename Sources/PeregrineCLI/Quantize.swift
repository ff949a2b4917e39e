import ArgumentParser
import Foundation
import GGUF
import Models

/// `peregrine quantize --model IN --out OUT --type T`: re-encodes a model's weight matrices.
struct Quantize: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Convert a model's weight matrices to another type (\(ModelQuantizer.targetTypes.map(\.description).joined(separator: ", "))), keeping its metadata.")

  @Option(name: .shortAndLong, help: "A GGUF file, or a known model name.") var model: String
  @Option(help: "Where to write the converted GGUF.") var out: String
  @Option(help: "Target tensor type, e.g. f16, q8_0, q4_0.") var type: String

  func run() throws {
    guard let target = GGMLType(name: type),
      ModelQuantizer.targetTypes.contains(target)
    else {
      throw ValidationError("unknown --type \(type); choose one of \(ModelQuantizer.targetTypes.map(\.description).joined(separator: ", "))")
    }
    var options = try ModelOptions.parse(["--model", model])
    options.threadCount = 1
    let file = try options.openFile()
    let start = Date()
    let (writer, report) = try { () throws(ModelError) in try ModelQuantizer.quantize(file, to: target) }()
    do { try writer.write(to: out) } catch { throw CLIError("cannot write \(out): \(error)") }
    let mib = { (b: Int) in String(format: "%.1f MiB", Double(b) / 1_048_576) }
    FileHandle.standardError.write(Data((
      "\(out): \(report.converted) matrices → \(target), \(report.fallbackF16) kept as f16 (rows not a multiple of the block), "
        + "\(report.kept) other tensors unchanged; \(mib(report.bytesIn)) → \(mib(report.bytesOut)) in "
        + String(format: "%.1f s\n", Date().timeIntervalSince(start))).utf8))
  }
}
