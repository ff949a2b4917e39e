import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import Engine
@testable import Server

/// The web pages' routes in process (the browser tier, Tests/Web, drives them in Chromium): who
/// gets the page at `/`, `--no-ui`, the embedded assets, `/v1/stats` and its latency window.
@Suite struct WebRouteTests {
  func makeApp(keys: [String] = [], webUI: Bool = true) throws -> (some ApplicationProtocol, ServerContext) {
    var configuration = ServerConfiguration(modelName: "scripted")
    configuration.apiKeys = keys
    configuration.webUI = webUI
    let server = ServerContext(configuration: configuration, accounts: nil, logger: Logger(label: "test"))
    let engine = try ScriptedEngine()
    let served = ServedModel(engine: engine, template: .chatML(defaultSystem: nil))
    server.host.set(.ready(engine: engine, context: ModelContext(served: served, name: "scripted", aliases: [])))
    return (Application(router: Routes.router(server)), server)
  }

  @Test func browsersGetThePlaygroundAndJSONClientsKeepTheOld404() async throws {
    let (app, _) = try makeApp(keys: ["sk-k"])
    try await app.test(.router) { client in
      for uri in ["/", "/playground"] {
        try await client.execute(uri: uri, method: .get, headers: [.accept: "text/html,application/xhtml+xml,*/*;q=0.8"]) { r in
          #expect(r.status == .ok, "\(uri)")
          #expect(r.headers[.contentType] == "text/html; charset=utf-8")
          #expect(r.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
          #expect(String(buffer: r.body).contains("<title>Peregrine playground</title>"))
        }
      }
      // curl's */* gets the page too; a client that asks for JSON alone gets what `/` always gave it.
      try await client.execute(uri: "/", method: .get, headers: [.accept: "*/*"]) { r in #expect(r.status == .ok) }
      try await client.execute(uri: "/", method: .get, headers: [.accept: "application/json"]) { r in
        #expect(r.status.code == 404)
        #expect(String(buffer: r.body).contains("not_found"))
      }
      try await client.execute(uri: "/dashboard", method: .get) { r in
        #expect(r.status == .ok)
        #expect(String(buffer: r.body).contains("Peregrine dashboard"))
      }
      try await client.execute(uri: "/dashboard", method: .post) { r in
        #expect(r.status.code == 405)
        #expect(r.headers[.allow] == "GET")
      }
    }
  }

  @Test func noUILeavesThePagesOutEntirely() async throws {
    let (app, server) = try makeApp(webUI: false)
    #expect(server.configuration.playgroundURL == nil)
    try await app.test(.router) { client in
      for uri in ["/", "/playground", "/dashboard", "/ui/api.js"] {
        try await client.execute(uri: uri, method: .get, headers: [.accept: "text/html"]) { r in
          #expect(r.status.code == 404, "\(uri)")
        }
      }
      try await client.execute(uri: "/dashboard", method: .post) { r in #expect(r.status.code == 404) }
      // The dashboard's data stays: it is API, not a page.
      try await client.execute(uri: "/v1/stats", method: .get) { r in #expect(r.status == .ok) }
    }
  }

  @Test func assetsAreServedWithTheirTypesAndNothingElseIs() async throws {
    let (app, _) = try makeApp(keys: ["sk-k"])
    try await app.test(.router) { client in
      for (name, type) in [("api.js", "text/javascript"), ("base.css", "text/css"), ("charts.js", "text/javascript")] {
        try await client.execute(uri: "/ui/" + name, method: .get) { r in
          #expect(r.status == .ok, "\(name)")
          #expect(r.headers[.contentType]?.hasPrefix(type) == true, "\(name)")
          #expect(r.headers[.xContentTypeOptions] == "nosniff")
        }
      }
      for uri in ["/ui/nothing.js", "/ui/playground.html", "/ui/..%2FPackage.swift", "/ui/"] {
        try await client.execute(uri: uri, method: .get) { r in #expect(r.status.code == 404, "\(uri)") }
      }
    }
  }

  /// Every file in Web/Assets is embedded and served, every one is small enough to read, and every
  /// script and stylesheet a page names exists.
  @Test func everyAssetFileIsEmbeddedAndEveryReferenceResolves() throws {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("../../Sources/Server/Web/Assets").standardized
    let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    #expect(files == WebAsset.all.keys.sorted())
    for name in files {
      let onDisk = try Data(contentsOf: directory.appendingPathComponent(name))
      #expect(Array(onDisk) == WebAsset.all[name]?.bytes, "\(name) differs from its embedded copy")
      let lines = String(decoding: onDisk, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
      #expect(lines.count <= 600, "\(name) has \(lines.count) lines")
    }
    for page in ["playground.html", "dashboard.html"] {
      let html = String(decoding: WebAsset.all[page]?.bytes ?? [], as: UTF8.self)
      let references = html.matches(of: try Regex(#"(?:src|href)="/ui/([^"]+)""#)).compactMap {
        $0.output[1].substring.map(String.init)
      }
      #expect(!references.isEmpty)
      for reference in references { #expect(WebAsset.all[reference] != nil, "\(page) names \(reference)") }
      // No inline script or style: the pages' Content-Security-Policy allows neither.
      let handlers = try Regex(#"\son[a-z]+\s*="#)
      #expect(!html.contains("<script>") && !html.contains("<style") && !html.contains(" style="))
      #expect(!html.contains(handlers))
    }
  }

  @Test func statsArePublicLikeMetricsAndCarryTheEngineNumbers() async throws {
    let (app, server) = try makeApp(keys: ["sk-k"])
    server.metrics.recentTTFT.record(0.25)
    try await app.test(.router) { client in
      try await client.execute(uri: "/v1/stats", method: .get) { r in
        #expect(r.status == .ok)
        let body = try #require(JSONSerialization.jsonObject(with: Data(r.body.readableBytesView)) as? [String: Any])
        #expect(body["object"] as? String == "server.stats")
        #expect(body["status"] as? String == "ok")
        #expect(body["api_key_required"] as? Bool == true)
        #expect(body["requests_running"] as? Int == 0)
        #expect(body["kv_cache_usage"] != nil && body["generation_tokens_total"] != nil)
        let ttft = try #require(body["ttft_s"] as? [String: Any])
        #expect(ttft["count"] as? Int == 1 && ttft["p50"] as? Double == 0.25)
        #expect(body["economics"] == nil)
      }
      // The API itself still wants the key.
      try await client.execute(uri: "/v1/models", method: .get) { r in #expect(r.status.code == 401) }
    }
  }

  @Test func recentSamplesGiveNearestRankPercentilesInsideTheWindowOnly() {
    let samples = RecentSamples(capacity: 1000)
    for v in 1...100 { samples.record(Double(v), at: 1000) }
    samples.record(5000, at: 900)  // older than the window: left out
    let s = samples.summary(window: 60, now: 1010)
    #expect(s == .init(count: 100, p50: 50, p90: 90, p99: 99))
    #expect(samples.summary(window: 60, now: 2000) == .init(count: 0))
    // A full ring keeps only the newest `capacity` samples.
    let ring = RecentSamples(capacity: 3)
    for v in 1...5 { ring.record(Double(v), at: 10) }
    #expect(ring.summary(window: 60, now: 10) == .init(count: 3, p50: 4, p90: 5, p99: 5))
  }

  @Test func thePlaygroundURLIsOneABrowserCanOpen() {
    var c = ServerConfiguration(modelName: "m")
    c.port = 8080
    #expect(c.playgroundURL == "http://127.0.0.1:8080/")
    c.host = "0.0.0.0"
    #expect(c.playgroundURL == "http://127.0.0.1:8080/")
    c.host = "::"
    #expect(c.playgroundURL == "http://[::1]:8080/")
    c.host = "example.internal"
    #expect(c.playgroundURL == "http://example.internal:8080/")
    #expect(Routes.wantsPage(nil) && Routes.wantsPage("*/*") && !Routes.wantsPage("application/json"))
  }
}
