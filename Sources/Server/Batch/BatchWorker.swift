import Accounts
import Engine
import Foundation

/// Moves every batch along in the background: validates new ones, runs their lines at batch
/// priority a few at a time (so steps batch them), writes the output and error files, and honours
/// cancel and expiry. Everything it knows is in the database, so a server restarted after kill -9
/// picks up each batch where the last one stopped: a line counts only once its result (and its
/// usage row) is committed, and a committed line is never run again.
final class BatchWorker: Sendable {
  let server: ServerContext
  let store: BatchStore
  /// Lines in flight at most, over all batches.
  let concurrency: Int
  private let state = LockedBox(State())

  private struct State {
    /// Engine request ids of each running line, by batch and line number.
    var inFlight: [String: [Int: [String]]] = [:]
    /// Batches whose lines must stop (cancelled or expired).
    var stopping: Set<String> = []
    var total: Int { inFlight.values.reduce(0) { $0 + $1.count } }
  }

  init(server: ServerContext, store: BatchStore, concurrency: Int) {
    self.server = server
    self.store = store
    self.concurrency = max(1, concurrency)
  }

  /// Runs until the task is cancelled.
  func run() async {
    while !Task.isCancelled {
      if case .ready(let engine, let model) = server.host.state {
        do { try await tick(engine: engine, model: model) } catch {
          server.logger.error("batch worker: \(error)")
          try? await Task.sleep(for: .seconds(1))
        }
      }
      try? await Task.sleep(for: .milliseconds(50))
    }
  }

  /// Stops a batch's running lines at once (their engine requests end within a step).
  func stop(_ batchID: String) {
    let ids = state.withLock { s -> [String] in
      s.stopping.insert(batchID)
      return s.inFlight[batchID]?.values.flatMap { $0 } ?? []
    }
    if let engine = server.host.engineIfReady { for id in ids { engine.cancel(id) } }
  }

  private func inFlight(_ batchID: String) -> Int { state.withLock { $0.inFlight[batchID]?.count ?? 0 } }

  /// One pass over the batches that are not finished.
  func tick(engine: any ServingEngine, model: ModelContext) async throws {
    for job in try store.active() {
      switch job.status {
      case .validating:
        try validate(job)
      case .cancelling:
        stop(job.id)
        if inFlight(job.id) == 0 { try finalize(job, as: .cancelled) }
      case .finalizing:
        try finalize(job, as: .completed)
      case .inProgress:
        if Date().timeIntervalSince1970 >= job.expiresAt {
          stop(job.id)
          if inFlight(job.id) == 0 { try finalize(job, as: .expired) }
          continue
        }
        let (room, running) = state.withLock { s in (concurrency - s.total, Set(s.inFlight[job.id]?.keys ?? [:].keys)) }
        let pending = try store.pendingLines(job.id, excluding: running, limit: max(room, 1))
        if pending.isEmpty && running.isEmpty {
          try store.transition(job.id, to: .finalizing)
          try finalize(job, as: .completed)
          continue
        }
        if try ownerRevoked(job) {
          // A revoked key's batch runs no further line: cancelled, what finished is kept.
          _ = try store.requestCancel(id: job.id, owner: job.owner)
          stop(job.id)
          continue
        }
        if room > 0 {
          let principal = try owner(of: job)
          for line in pending.prefix(room) { launch(job, line, principal: principal, engine: engine, model: model) }
        }
      default:
        break
      }
    }
  }

  /// Checks the input; stores its lines and starts it, or fails it with every error.
  private func validate(_ job: BatchJob) throws {
    guard let file = try store.files.get(id: job.inputFileID) else {
      let error = BatchWire.LineError(
        code: "file_not_found", message: "The input file \(job.inputFileID) no longer exists.", param: "input_file_id",
        line: nil)
      try store.fail(job.id, errors: Self.json([error]), total: 0)
      return
    }
    switch BatchInputValidator(endpoint: job.endpoint).validate(try store.files.content(of: file)) {
    case .invalid(let errors, let count):
      try store.fail(job.id, errors: Self.json(errors), total: count)
    case .valid(let requests):
      let lines = requests.enumerated().map { BatchLine(batchID: job.id, line: $0, customID: $1.customID, body: $1.body) }
      try store.accept(job.id, lines: lines)
    }
  }

  /// Whether the batch was created with a stored key that has since been revoked.
  private func ownerRevoked(_ job: BatchJob) throws -> Bool {
    guard Principal.Kind(rawValue: job.ownerKind) == .storedKey, let accounts = server.accounts else { return false }
    return try KeyStore(accounts).key(id: job.owner).revokedAt != nil
  }

  /// The principal the batch's lines are metered as: its creator, with the tier it has now.
  private func owner(of job: BatchJob) throws -> Principal {
    let kind = Principal.Kind(rawValue: job.ownerKind) ?? .open
    switch kind {
    case .storedKey:
      guard let accounts = server.accounts else { return .open }
      let key = try KeyStore(accounts).key(id: job.owner)
      return Principal(id: job.owner, kind: kind, tier: try KeyStore(accounts).tier(named: key.tier))
    case .anonymous:
      var tier = Tier.anonymous
      if let accounts = server.accounts, let stored = try? KeyStore(accounts).tier(named: Tier.anonymous.name) {
        tier = stored
      }
      if let tokens = server.metering.settings.anonymousDailyTokens { tier.dailyTokens = tokens }
      return Principal(id: job.owner, kind: kind, tier: tier)
    case .open: return .open
    default: return Principal(id: job.owner, kind: kind, tier: .unlimited)
    }
  }

  private func launch(
    _ job: BatchJob, _ line: BatchLine, principal: Principal, engine: any ServingEngine, model: ModelContext
  ) {
    state.withLock { $0.inFlight[job.id, default: [:]][line.line] = [] }
    Task {
      await runLine(job, line, principal: principal, engine: engine, model: model)
      state.withLock { $0.inFlight[job.id]?[line.line] = nil }
    }
  }

  /// Runs one line and commits its result with its usage; leaves it pending if it was stopped.
  private func runLine(
    _ job: BatchJob, _ line: BatchLine, principal: Principal, engine: any ServingEngine, model: ModelContext
  ) async {
    let requestID = "batch_req_" + Routes.shortID()
    let runner = BatchRunner(
      engine: engine, model: model, endpoint: job.endpoint,
      cacheNamespace: server.keys.cacheNamespace(keyID: principal.kind == .open ? nil : principal.id))
    var plan: GenerationPlan
    switch runner.plan(body: line.body, id: Routes.shortID()) {
    case .failure(let error):
      commit(job, line, requestID: requestID, status: error.status, body: error.body)
      return
    case .success(let p): plan = p
    }
    var caller = CompletionHandler.Caller(requestID: requestID, principal: principal, outcome: ResponseOutcome())
    do {
      caller.reservation = try await server.metering.reserve(&plan, principal: principal, requestID: requestID)
    } catch {
      if error.code == "rate_limit_exceeded" || error.status == 503 {
        // Requests per minute, or the database is busy: the line waits its turn.
        try? await Task.sleep(for: .seconds(Double(error.retryAfter ?? 1)))
      } else {
        commit(job, line, requestID: requestID, status: error.status, body: error.body)
      }
      return
    }
    let ids = plan.requests.map(\.id)
    let stopped = state.withLock { s -> Bool in
      s.inFlight[job.id]?[line.line] = ids
      return s.stopping.contains(job.id)
    }
    if stopped {
      await server.metering.release(caller.reservation)
      return
    }
    caller.machineMark = server.metering.clock.begin()
    switch await runner.generate(plan) {
    case .finished(let choices):
      let status = choices.contains { $0.completion?.finishReason == .error } ? 500 : 200
      let (record, cost) = server.usageRecord(plan: plan, choices: choices, status: status, caller: caller, batch: true)
      let response = BatchRunner.response(plan: plan, choices: choices, cost: cost)
      commit(job, line, requestID: requestID, status: response.status, body: response.body, caller: caller, usage: record)
    case .rejected(let error):
      _ = server.metering.clock.end(caller.machineMark)
      commit(job, line, requestID: requestID, status: error.status, body: error.body, caller: caller)
    case .stopped:
      // Cancelled, expired, or the engine is stopping: nothing charged, the line stays pending.
      _ = server.metering.clock.end(caller.machineMark)
      await server.metering.release(caller.reservation)
    case .refused:
      // The engine's queue is full (interactive traffic comes first): try again shortly.
      _ = server.metering.clock.end(caller.machineMark)
      await server.metering.release(caller.reservation)
      try? await Task.sleep(for: .milliseconds(200))
    }
  }

  /// Commits a finished line, with its usage row and the release of its reservation.
  private func commit(
    _ job: BatchJob, _ line: BatchLine, requestID: String, status: Int, body: Data,
    caller: CompletionHandler.Caller? = nil, usage: UsageRecord? = nil
  ) {
    let outcome = BatchLineOutcome(
      statusCode: status, response: String(decoding: body, as: UTF8.self), error: nil, requestID: requestID)
    do {
      if try store.finish(job.id, line: line.line, outcome: outcome, reservation: caller?.reservation, usage: usage),
        let usage
      {
        server.metering.count(usage)
      }
    } catch {
      server.logger.error("batch \(job.id) line \(line.line + 1): result not stored (it will run again): \(error)")
    }
  }

  /// Writes the output and error files from the committed lines and ends the batch as `status`.
  /// Idempotent: the files' ids follow from the batch's, so a finalization cut short by a crash
  /// writes the same files again.
  private func finalize(_ job: BatchJob, as status: BatchStatus) throws {
    let lines = try store.lines(job.id)
    var output = Data()
    var errors = Data()
    let why = status == .expired ? "batch_expired" : "batch_cancelled"
    for line in lines {
      if line.finishedAt == nil {
        let message =
          status == .expired
          ? "The batch expired before this request ran." : "The batch was cancelled before this request ran."
        errors += BatchOutputLine.unanswered(
          customID: line.customID, requestID: "batch_req_\(job.id)_\(line.line)", code: why, message: message)
      } else if line.succeeded {
        output += BatchOutputLine.finished(line)
      } else {
        errors += BatchOutputLine.finished(line)
      }
    }
    let suffix = job.id.replacingOccurrences(of: "batch_", with: "")
    let outputFile = try write(output, id: "file-\(suffix)-output", filename: "\(job.id)_output.jsonl", owner: job.owner)
    let errorFile = try write(errors, id: "file-\(suffix)-errors", filename: "\(job.id)_error.jsonl", owner: job.owner)
    let files = [outputFile, errorFile].compactMap { $0 }
    let (outputID, errorID) = (outputFile?.id, errorFile?.id)
    try store.transition(job.id, to: status, files: files, outputFileID: outputID, errorFileID: errorID)
    _ = state.withLock { $0.stopping.remove(job.id) }
    server.logger.info("batch \(job.id) \(status.rawValue): \(lines.count) lines")
  }

  /// Writes a result file's bytes (none when empty); its row is committed with the batch's end.
  private func write(_ content: Data, id: String, filename: String, owner: String) throws -> StoredFile? {
    guard !content.isEmpty else { return nil }
    try store.files.write(content, name: id)
    return StoredFile(
      id: id, owner: owner, filename: filename, purpose: "batch_output", bytes: content.count,
      createdAt: Date().timeIntervalSince1970, path: id)
  }

  static func json(_ errors: [BatchWire.LineError]) -> String {
    String(decoding: (try? JSONEncoder().encode(errors)) ?? Data("[]".utf8), as: UTF8.self)
  }
}
