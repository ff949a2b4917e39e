import Accounts
import ArgumentParser
import Foundation
import Server

/// `serve`'s flags for keys, allowances, prices and the result cache (docs/server.md, "Keys,
/// allowances and cost").
struct EconomicsFlags: ParsableArguments {
  @Option(
    name: .customLong("admin-key"),
    help: "Bearer token of the admin API (/v1/admin/…) and of everyone's usage (also PEREGRINE_ADMIN_KEY).")
  var adminKey: String?
  @Flag(
    name: .customLong("allow-anonymous"),
    help: "Let requests without a key in under the 'anonymous' tier, metered per client address.")
  var allowAnonymous = false
  @Option(
    name: .customLong("anonymous-tokens"),
    help: "Daily allowance of each anonymous client address (default: the 'anonymous' tier's, 2500).")
  var anonymousTokens: Int?
  @Option(
    help: ArgumentHelp(
      "Prices in dollars per million tokens, e.g. input=0.10,output=0.40,cached=0.05; or a JSON/TOML file of them.",
      valueName: "input=N,output=N[,cached=N] | FILE"))
  var price: String?
  @Option(
    name: .customLong("batch-discount"),
    help: "Price multiplier of batch lines (/v1/batches), e.g. 0.5 = half price (OpenAI's); 1 = no discount.")
  var batchDiscount = 0.5
  @Option(
    name: .customLong("machine-cost-per-hour"),
    help: "What this machine costs in dollars per hour: each request's share is reported as usage.cost.machine.")
  var machineCostPerHour: Double?
  @Option(
    name: .customLong("response-cache-size"),
    help: "Memory for cached results of deterministic requests, e.g. 64MiB; 0 turns the result cache off.")
  var responseCacheSize = "64MiB"
  @Option(name: .customLong("response-cache-ttl"), help: "Seconds a cached result stays valid.")
  var responseCacheTTL: Double = 3600

  func validate() throws {
    if let anonymousTokens, anonymousTokens < 0 { throw ValidationError("--anonymous-tokens must be ≥ 0") }
    guard batchDiscount.isFinite, (0...1).contains(batchDiscount) else {
      throw ValidationError("--batch-discount must be between 0 and 1 (0.5 = half price)")
    }
    if let machineCostPerHour, !(machineCostPerHour.isFinite && machineCostPerHour >= 0) {
      throw ValidationError("--machine-cost-per-hour must be a number ≥ 0")
    }
    guard responseCacheTTL.isFinite, responseCacheTTL > 0 else {
      throw ValidationError("--response-cache-ttl must be a positive number of seconds")
    }
    if responseCacheSize != "0", ByteSize(argument: responseCacheSize) == nil {
      throw ValidationError("--response-cache-size: cannot read '\(responseCacheSize)' as a size (e.g. 64MiB, 0)")
    }
    _ = try prices()
  }

  /// The settings, or a message naming the flag at fault.
  func settings(usageDatabase: Bool) throws -> EconomicsSettings {
    var s = EconomicsSettings()
    s.adminKey = adminKey ?? ProcessInfo.processInfo.environment["PEREGRINE_ADMIN_KEY"].flatMap { $0.isEmpty ? nil : $0 }
    s.allowAnonymous = allowAnonymous
    s.anonymousDailyTokens = anonymousTokens
    s.prices = try prices()
    s.prices?.batchDiscount = batchDiscount
    s.machineCostPerHour = machineCostPerHour
    s.resultCacheBytes = responseCacheSize == "0" ? 0 : ByteSize(argument: responseCacheSize)?.bytes ?? 0
    s.resultCacheTTL = responseCacheTTL
    if !usageDatabase, s.allowAnonymous || s.adminKey != nil {
      throw ValidationError("--allow-anonymous and --admin-key need a usage database (not --usage-db none)")
    }
    return s
  }

  /// `--price` as text, or the JSON (`{"input":…,"output":…,"cached":…}`) or TOML (`input = …`
  /// lines) file it names.
  func prices() throws -> PriceTable? {
    guard let price else { return nil }
    do {
      if price.contains("=") { return try PriceTable.parse(price) }
      let text = try String(contentsOfFile: price, encoding: .utf8)
      if price.hasSuffix(".json") {
        struct File: Decodable {
          var input: Double?
          var output: Double?
          var cached: Double?
        }
        let f = try JSONDecoder().decode(File.self, from: Data(text.utf8))
        return try PriceTable.validated(input: f.input, output: f.output, cached: f.cached)
      }
      let pairs = text.split(whereSeparator: \.isNewline).compactMap { line -> String? in
        let content = line.split(separator: "#", maxSplits: 1).first.map(String.init) ?? ""
        let trimmed = content.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty || trimmed.hasPrefix("[") ? nil : trimmed.replacingOccurrences(of: " ", with: "")
      }
      return try PriceTable.parse(pairs.joined(separator: ","))
    } catch let error as AccountsError {
      throw ValidationError("--price: \(error)")
    } catch {
      throw ValidationError("--price: cannot read '\(price)': \(error)")
    }
  }
}
