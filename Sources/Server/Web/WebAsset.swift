import Foundation

/// One file of the playground or the dashboard (Sources/Server/Web/Assets), compiled into the
/// binary by SwiftPM's `embedInCode` rule so `peregrine serve` needs nothing beside itself.
struct WebAsset: Sendable {
  var bytes: [UInt8]
  var contentType: String

  /// The assets by the name they are served under (`/ui/<name>`; the pages at their own routes).
  static let all: [String: WebAsset] = [
    "playground.html": .init(bytes: PackageResources.playground_html, contentType: html),
    "dashboard.html": .init(bytes: PackageResources.dashboard_html, contentType: html),
    "base.css": .init(bytes: PackageResources.base_css, contentType: css),
    "playground.css": .init(bytes: PackageResources.playground_css, contentType: css),
    "dashboard.css": .init(bytes: PackageResources.dashboard_css, contentType: css),
    "api.js": .init(bytes: PackageResources.api_js, contentType: js),
    "format.js": .init(bytes: PackageResources.format_js, contentType: js),
    "markdown.js": .init(bytes: PackageResources.markdown_js, contentType: js),
    "store.js": .init(bytes: PackageResources.store_js, contentType: js),
    "transcript.js": .init(bytes: PackageResources.transcript_js, contentType: js),
    "playground.js": .init(bytes: PackageResources.playground_js, contentType: js),
    "charts.js": .init(bytes: PackageResources.charts_js, contentType: js),
    "dashboard.js": .init(bytes: PackageResources.dashboard_js, contentType: js),
  ]

  /// The asset called `name`: the embedded copy, or with `PEREGRINE_UI_DIR` set (for editing the
  /// pages without rebuilding) that directory's file of the same name. Only names in `all` are
  /// looked up, so the variable cannot expose any other file.
  static func named(_ name: String) -> WebAsset? {
    guard let embedded = all[name] else { return nil }
    if let directory = ProcessInfo.processInfo.environment["PEREGRINE_UI_DIR"], !directory.isEmpty,
      let data = FileManager.default.contents(atPath: directory + "/" + name)
    {
      return WebAsset(bytes: Array(data), contentType: embedded.contentType)
    }
    return embedded
  }

  private static let html = "text/html; charset=utf-8"
  private static let css = "text/css; charset=utf-8"
  private static let js = "text/javascript; charset=utf-8"
}
