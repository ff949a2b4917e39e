import Engine
import Foundation
import Logging

/// What every route shares: configuration, the model's lifecycle, metrics and the usage store.
final class ServerContext: Sendable {
  let configuration: ServerConfiguration
  let host = ModelHost()
  let metrics: ServerMetrics
  let usage: UsageStore?
  let logger: Logger

  init(configuration: ServerConfiguration, usage: UsageStore?, logger: Logger) {
    self.configuration = configuration
    self.metrics = ServerMetrics(modelName: configuration.modelName)
    self.usage = usage
    self.logger = logger
  }

  /// Stores the usage of one finished HTTP request; a failing database costs a log line, not the response.
  func recordUsage(
    plan: GenerationPlan, choices: [ChoiceAccumulator], status: Int, requestID: String, apiKeyID: String?
  ) {
    guard let usage else { return }
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
      e2eSeconds: first?.timings.e2eSeconds ?? 0, decodeTokensPerSecond: first?.timings.decodeTokensPerSecond ?? 0,
      status: status, finishReason: choices.first?.finishReason)
    do { try usage.insert(record) } catch { logger.error("usage record not stored: \(error)") }
  }
}
