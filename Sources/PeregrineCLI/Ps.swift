import ArgumentParser
import Foundation

/// `peregrine ps`: what a running server serves and how busy it is, asked through its API
/// (`/status`, or `/v1/models` for servers without it).
struct Ps: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show what running servers serve: model, state, context, running and waiting requests, KV cache use.")

  @Option(help: "A server to ask (repeatable).") var url: [String] = ["http://127.0.0.1:8080"]
  @Option(name: .customLong("api-key"), help: "Bearer key for servers started with --api-key (also PEREGRINE_API_KEY).")
  var apiKey: String?
  @Flag(help: "Print each server's /status JSON instead of a table.") var json = false

  func run() throws {
    let key = apiKey ?? ProcessInfo.processInfo.environment["PEREGRINE_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
    var rows = [["URL", "MODEL", "STATUS", "CONTEXT", "RUNNING", "WAITING", "KV CACHE", "UPTIME"]]
    var reached = 0
    for url in url {
      var client = try HTTPClient(url: url, apiKey: key)
      client.timeout = 5
      let status: HTTPClient.Response
      do { status = try client.send("GET", "/status") } catch {
        printError("\(client.origin): \(error) — start a server with `peregrine serve`")
        continue
      }
      reached += 1
      if json {
        print(String(decoding: status.body, as: UTF8.self))
        continue
      }
      guard status.status == 200, let s = try? JSONSerialization.jsonObject(with: status.body) as? [String: Any] else {
        // Not a Peregrine server (or an old one): the OpenAI model list still says what it serves.
        let models = try? client.send("GET", "/v1/models")
        let ids =
          models.flatMap { try? JSONSerialization.jsonObject(with: $0.body) as? [String: Any] }
          .flatMap { $0["data"] as? [[String: Any]] }?.compactMap { $0["id"] as? String } ?? []
        let state = status.status == 401 ? "needs --api-key" : "HTTP \(status.status)"
        rows.append([client.origin, ids.joined(separator: ","), state, "?", "?", "?", "?", "?"])
        continue
      }
      func int(_ k: String) -> String { (s[k] as? Int).map(String.init) ?? "-" }
      let kv = (s["kv_cache_usage"] as? Double).map { String(format: "%.1f %%", $0 * 100) } ?? "-"
      rows.append([
        client.origin, s["model"] as? String ?? "?", s["status"] as? String ?? "?", int("max_model_len"),
        int("requests_running"), int("requests_waiting"), kv, (s["uptime_s"] as? Int).map(Self.duration) ?? "-",
      ])
    }
    if !json && rows.count > 1 { printTable(rows) }
    if reached == 0 { throw ExitCode(1) }
  }

  static func duration(_ seconds: Int) -> String {
    if seconds < 120 { return "\(seconds) s" }
    if seconds < 7200 { return "\(seconds / 60) min" }
    return "\(seconds / 3600) h \(seconds % 3600 / 60) min"
  }
}
