import Foundation
import Hub

/// The catalog as `pull --help` and an unknown name show it: one line per model.
enum CatalogListing {
  static var text: String {
    let width = ModelCatalog.entries.map(\.name.count).max() ?? 0
    return ModelCatalog.entries.map { e in
      e.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + e.summary + " (" + mib(e.byteCount) + ")"
        + (e.name == ModelCatalog.defaultModel ? ", the default" : "")
    }.joined(separator: "\n")
  }
}

/// "93.8 MiB", "1.2 GiB".
func mib(_ bytes: Int) -> String {
  let m = Double(bytes) / 1_048_576
  return m >= 1024 ? String(format: "%.1f GiB", m / 1024) : String(format: "%.1f MiB", m)
}

/// "135M", "1.2B": a parameter count as model names write it.
func parameterCount(_ n: Int) -> String {
  let x = Double(n)
  if x >= 1e9 { return String(format: "%.1fB", x / 1e9) }
  if x >= 1e6 { return String(format: "%.0fM", x / 1e6) }
  return String(format: "%.0fK", x / 1e3)
}
