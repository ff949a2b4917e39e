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
  /// Keys, allowances and the usage ledger; nil with `--usage-db none`.
  let accounts: AccountsDatabase?
  let logger: Logger
  let keys: APIKeyCheck
  let connections: ConnectionRegistry
  let metering: Metering
  /// Files and batch jobs; nil without a database.
  let batches: BatchStore?
  private let worker = LockedBox<BatchWorker?>(nil)
  /// The batch worker, once the model is loaded.
  var batchWorker: BatchWorker? { worker.current }

  /// Key ids are keyed with the accounts database's secret (a random one without a database).
  init(configuration: ServerConfiguration, accounts: AccountsDatabase?, logger: Logger) {
    self.configuration = configuration
    self.accounts = accounts
    self.logger = logger
    keys = APIKeyCheck(
      keys: configuration.apiKeys, digest: accounts?.digest ?? KeyDigest(secret: KeyDigest.randomSecret()),
      sharedCache: configuration.sharedPrefixCache)
    metering = Metering(
      settings: configuration.economics, accounts: accounts, staticKeys: keys, logger: logger)
    connections = ConnectionRegistry(
      maxConnections: configuration.maxConnections, limits: configuration.connectionLimits)
    self.metrics = ServerMetrics(modelName: configuration.modelName, connections: connections)
    batches = accounts.map { accounts in
      let directory =
        configuration.filesDirectory
        ?? configuration.usageDatabasePath.map { URL(fileURLWithPath: $0).deletingLastPathComponent().appendingPathComponent("files").path }
        ?? FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-files").path
      return BatchStore(accounts, files: FileStore(accounts, directory: URL(fileURLWithPath: directory)))
    }
  }

  /// Starts the batch worker (once the model is ready); returns its task, to cancel at shutdown.
  func startBatchWorker() -> Task<Void, Never>? {
    guard let batches else { return nil }
    let w = BatchWorker(server: self, store: batches, concurrency: configuration.batchConcurrency)
    worker.withLock { $0 = w }
    return Task.detached { await w.run() }
  }

  /// Settles one HTTP request: prices it, takes its share of the machine's cost, and commits its
  /// usage row while releasing its reservation (one transaction). Returns the row id (to correct
  /// its status later) and the cost the response reports. A failing database costs a log line, not
  /// the response. `elapsed` stands in for timings of choices that never finished.
  @discardableResult
  func recordUsage(
    plan: GenerationPlan, choices: [ChoiceAccumulator], status: Int, caller: CompletionHandler.Caller,
    elapsed: Double = 0, cacheHit: Bool = false
  ) -> (row: Int64?, cost: UsageCost?) {
    let (record, cost) = usageRecord(
      plan: plan, choices: choices, status: status, caller: caller, elapsed: elapsed, cacheHit: cacheHit)
    let row = metering.settle(caller.reservation, record: record)
    return (row, cost)
  }

  /// The usage row of a finished request and the cost its response reports (nil when unpriced);
  /// batch lines are priced with the batch discount. Ends the request's machine-cost interval.
  func usageRecord(
    plan: GenerationPlan, choices: [ChoiceAccumulator], status: Int, caller: CompletionHandler.Caller,
    elapsed: Double = 0, cacheHit: Bool = false, batch: Bool = false
  ) -> (UsageRecord, UsageCost?) {
    let first = choices.first?.completion
    let cached = stride(from: 0, to: choices.count, by: plan.n).reduce(0) {
      $0 + (choices[$1].completion?.cachedPromptTokens ?? 0)
    }
    let prompt = plan.promptTokenCounts.reduce(0, +)
    let completion = choices.reduce(0) { $0 + ($1.completion?.completionTokens ?? $1.tokens.count) }
    let machineSeconds = metering.clock.end(caller.machineMark)
    // A result-cache hit computed nothing: its prompt is priced as cached input, its output is free.
    let cost = metering.cost(
      promptTokens: prompt, cachedTokens: cacheHit ? prompt : cached, completionTokens: cacheHit ? 0 : completion,
      machineSeconds: machineSeconds, batch: batch)
    let record = UsageRecord(
      requestID: caller.requestID, createdAt: Date().timeIntervalSince1970, endpoint: plan.endpoint.rawValue,
      model: plan.model, user: plan.user, apiKeyID: caller.apiKeyID, promptTokens: prompt,
      completionTokens: completion, cachedTokens: cached, queueSeconds: first?.timings.queueSeconds ?? 0,
      ttftSeconds: first?.timings.ttftSeconds ?? 0, e2eSeconds: first?.timings.e2eSeconds ?? elapsed,
      decodeTokensPerSecond: first?.timings.decodeTokensPerSecond ?? 0, status: status,
      finishReason: choices.first?.finishReason, cost: cost ?? .zero, batch: batch, cacheHit: cacheHit)
    return (record, cost.map { UsageCost($0, machineKnown: metering.settings.machineCostPerHour != nil) })
  }

  /// Keeps a finished chat completion for its caller (`store: true`); the request body and the
  /// whole response, nothing else.
  func storeCompletion(plan: GenerationPlan, caller: CompletionHandler.Caller, response: Data) {
    guard let accounts else { return }
    let metadata = plan.metadata.flatMap { try? JSONEncoder().encode($0) }.map { String(decoding: $0, as: UTF8.self) }
    let stored = StoredCompletion(
      id: plan.id, principal: caller.principal.id, createdAt: Date().timeIntervalSince1970, model: plan.model,
      request: String(decoding: caller.body ?? Data(), as: UTF8.self), response: String(decoding: response, as: UTF8.self),
      metadata: metadata)
    do { try CompletionStore(accounts).saveNow(stored) } catch { logger.error("completion not stored: \(error)") }
  }

  /// Corrects the status of a stored usage record.
  func correctUsage(row: Int64?, status: Int) {
    guard let accounts, let row else { return }
    do { try UsageLedger(accounts).setStatus(status, id: row) } catch { logger.error("usage record not corrected: \(error)") }
  }
}
