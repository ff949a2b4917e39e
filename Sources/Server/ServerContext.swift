import Accounts
import Engine
import Foundation
import Logging

/// What every route shares: configuration, the model's lifecycle, metrics, the usage store, the
/// API keys and the open connections.
final class ServerContext: Sendable {
  let configuration: ServerConfiguration
  let host = ModelHost()
  let metrics: ServerMetrics
  let usage: UsageStore?
  let logger: Logger
  let keys: APIKeyCheck
  let connections: ConnectionRegistry

  /// - Parameter keyDigest: makes key ids; pass one keyed with the usage database's secret.
  init(configuration: ServerConfiguration, usage: UsageStore?, logger: Logger, keyDigest: KeyDigest? = nil) {
    self.configuration = configuration
    self.usage = usage
    self.logger = logger
    keys = APIKeyCheck(
      keys: configuration.apiKeys, digest: keyDigest ?? KeyDigest(secret: KeyDigest.randomSecret()),
      sharedCache: configuration.sharedPrefixCache)
    connections = ConnectionRegistry(
      maxConnections: configuration.maxConnections, limits: configuration.connectionLimits)
    self.metrics = ServerMetrics(modelName: configuration.modelName, connections: connections)
  }

  /// Stores the usage of one HTTP request and returns its row id; a failing database costs a log
  /// line, not the response. `elapsed` stands in for timings of choices that never finished.
  @discardableResult
  func recordUsage(
    plan: GenerationPlan, choices: [ChoiceAccumulator], status: Int, requestID: String, apiKeyID: String?,
    elapsed: Double = 0
  ) -> Int64? {
    guard let usage else { return nil }
    let first = choices.first?.completion
    let cached = stride(from: 0, to: choices.count, by: plan.n).reduce(0) {
      $0 + (choices[$1].completion?.cachedPromptTokens ?? 0)
    }
    let record = UsageRecord(
      id: nil, requestID: requestID, createdAt: Date().timeIntervalSince1970, endpoint: plan.endpoint.rawValue,
      model: plan.model, user: plan.user, apiKeyID: apiKeyID, promptTokens: plan.promptTokenCounts.reduce(0, +),
      completionTokens: choices.reduce(0) { $0 + ($1.completion?.completionTokens ?? $1.tokens.count) },
      cachedTokens: cached, queueSeconds: first?.timings.queueSeconds ?? 0,
      ttftSeconds: first?.timings.ttftSeconds ?? 0,
      e2eSeconds: first?.timings.e2eSeconds ?? elapsed,
      decodeTokensPerSecond: first?.timings.decodeTokensPerSecond ?? 0,
      status: status, finishReason: choices.first?.finishReason)
    do { return try usage.insert(record) } catch {
      logger.error("usage record not stored: \(error)")
      return nil
    }
  }

  /// Corrects the status of a stored usage record.
  func correctUsage(row: Int64?, status: Int) {
    guard let usage, let row else { return }
    do { try usage.setStatus(status, id: row) } catch { logger.error("usage record not corrected: \(error)") }
  }
}
