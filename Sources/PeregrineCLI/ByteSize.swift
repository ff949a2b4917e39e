import ArgumentParser

/// A memory size on the command line, the same spelling everywhere: `256MiB`, `2GiB`, `1.5G`,
/// `512M`, `800MB`, or a bare number of bytes. K/M/G alone are binary (as llama.cpp's and Ollama's
/// sizes), KB/MB/GB decimal.
struct ByteSize: ExpressibleByArgument, Sendable, Equatable {
  var bytes: Int
  /// Whether the text gave a unit; a bare `256` is 256 bytes, rarely what was meant.
  var hasUnit: Bool

  init(bytes: Int, hasUnit: Bool = true) {
    self.bytes = bytes
    self.hasUnit = hasUnit
  }

  init?(argument: String) {
    let units: [(String, Double)] = [
      ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("KB", 1e3), ("MB", 1e6), ("GB", 1e9),
      ("K", 1024), ("M", 1_048_576), ("G", 1_073_741_824), ("B", 1),
    ]
    let text = argument.trimmingCharacters(in: .whitespaces)
    for (suffix, scale) in units where text.hasSuffix(suffix) {
      guard let value = Double(text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), value > 0,
        value * scale < Double(Int.max)
      else { return nil }
      self.init(bytes: Int(value * scale), hasUnit: suffix != "B")
      return
    }
    guard let value = Int(text), value > 0 else { return nil }
    self.init(bytes: value, hasUnit: false)
  }

  static var defaultValueDescription: String { "SIZE" }

  /// The smallest KV cache budget accepted: below a MiB no real model fits one block of 16 positions
  /// (SmolLM2-135M needs 360 KiB per block, larger models more), so a smaller figure is a slip, most
  /// often a number of MiB written without its unit.
  static let minimumKVCache = 1 << 20

  /// Why `size` cannot be `flag`'s KV cache budget, or nil.
  static func kvCacheProblem(_ size: ByteSize, flag: String = "--kv-cache-memory") -> String? {
    guard size.bytes < minimumKVCache else { return nil }
    if !size.hasUnit {
      return "\(flag) \(size.bytes) means \(size.bytes) bytes, less than one KV block; write a unit, e.g. \(size.bytes)MiB or 2GiB"
    }
    return "\(flag) must be at least 1MiB (one KV block of the smallest models), got \(size.bytes) bytes"
  }
}
