import Foundation
import GRDB

/// Batch jobs and their lines. Every change of state is one transaction, and a line's result is
/// committed together with its usage row (and the release of its reservation), so after a kill -9
/// each line is either finished and charged once, or pending and run again: never both, never
/// twice.
public struct BatchStore: Sendable {
  let database: AccountsDatabase
  public let files: FileStore

  public init(_ database: AccountsDatabase, files: FileStore) {
    self.database = database
    self.files = files
  }

  public func create(_ job: BatchJob) throws {
    try database.writer.write { db in try job.insert(db) }
  }

  /// The owner's batch, or nil (another owner's batch is as absent as a missing one).
  public func get(id: String, owner: String) throws -> BatchJob? {
    try database.writer.read { db in try BatchJob.filter(Column("id") == id && Column("owner") == owner).fetchOne(db) }
  }

  public func get(id: String) throws -> BatchJob? {
    try database.writer.read { db in try BatchJob.fetchOne(db, key: id) }
  }

  /// The owner's batches, newest first, paged by id (`after`).
  public func list(owner: String, after: String? = nil, limit: Int = 20) throws -> [BatchJob] {
    try database.writer.read { db in
      var request = BatchJob.filter(Column("owner") == owner)
      if let after, let anchor = try BatchJob.filter(Column("owner") == owner && Column("id") == after).fetchOne(db) {
        request = request.filter(
          Column("created_at") < anchor.createdAt
            || (Column("created_at") == anchor.createdAt && Column("id") < anchor.id))
      }
      return try request.order(Column("created_at").desc, Column("id").desc).limit(limit).fetchAll(db)
    }
  }

  /// Batches the worker still has to move along, oldest first.
  public func active() throws -> [BatchJob] {
    try database.writer.read { db in
      try BatchJob.filter(
        [BatchStatus.validating, .inProgress, .finalizing, .cancelling].map(\.rawValue).contains(Column("status"))
      ).order(Column("created_at").asc, Column("id").asc).fetchAll(db)
    }
  }

  /// A validated batch: its lines stored, `in_progress` from now. False if it was cancelled meanwhile.
  @discardableResult
  public func accept(_ id: String, lines: [BatchLine], now: Date = Date()) throws -> Bool {
    try database.writer.write { db in
      guard var job = try BatchJob.fetchOne(db, key: id), job.status == .validating else { return false }
      for line in lines { try line.insert(db) }
      job.status = .inProgress
      job.inProgressAt = now.timeIntervalSince1970
      job.total = lines.count
      try job.update(db)
      return true
    }
  }

  /// Invalid input: `failed`, with the errors (JSON text of OpenAI's `errors.data`).
  public func fail(_ id: String, errors: String, total: Int, now: Date = Date()) throws {
    try database.writer.write { db in
      guard var job = try BatchJob.fetchOne(db, key: id), !job.status.isTerminal else { return }
      job.status = .failed
      job.errors = errors
      job.total = total
      job.failedAt = now.timeIntervalSince1970
      try job.update(db)
    }
  }

  /// Asks for a batch to stop: `cancelling` (the worker stops its lines, then marks it `cancelled`).
  /// Returns the batch as it now stands; nil if the owner has no such batch.
  public func requestCancel(id: String, owner: String, now: Date = Date()) throws -> BatchJob? {
    try database.writer.write { db in
      guard var job = try BatchJob.filter(Column("id") == id && Column("owner") == owner).fetchOne(db) else {
        return nil
      }
      if job.status == .validating || job.status == .inProgress {
        job.status = .cancelling
        job.cancellingAt = now.timeIntervalSince1970
        try job.update(db)
      }
      return job
    }
  }

  /// Moves a batch to `status`, stamping the matching time; the output files, when given, are
  /// registered in the same transaction. Nothing happens to a batch already terminal.
  public func transition(
    _ id: String, to status: BatchStatus, files newFiles: [StoredFile] = [], outputFileID: String? = nil,
    errorFileID: String? = nil, now: Date = Date()
  ) throws {
    try database.writer.write { db in
      guard var job = try BatchJob.fetchOne(db, key: id), !job.status.isTerminal else { return }
      for file in newFiles where try StoredFile.fetchOne(db, key: file.id) == nil { try file.insert(db) }
      let t = now.timeIntervalSince1970
      job.status = status
      switch status {
      case .inProgress: job.inProgressAt = t
      case .finalizing: job.finalizingAt = t
      case .completed: job.completedAt = t
      case .failed: job.failedAt = t
      case .expired: job.expiredAt = t
      case .cancelling: job.cancellingAt = t
      case .cancelled: job.cancelledAt = t
      case .validating: break
      }
      if let outputFileID { job.outputFileID = outputFileID }
      if let errorFileID { job.errorFileID = errorFileID }
      try job.update(db)
    }
  }

  /// Lines not yet finished, in input order, skipping `running`.
  public func pendingLines(_ id: String, excluding running: Set<Int> = [], limit: Int) throws -> [BatchLine] {
    try database.writer.read { db in
      try BatchLine.filter(Column("batch_id") == id && Column("finished_at") == nil)
        .filter(!running.contains(Column("line")))
        .order(Column("line")).limit(limit).fetchAll(db)
    }
  }

  /// Every line, in input order.
  public func lines(_ id: String) throws -> [BatchLine] {
    try database.writer.read { db in
      try BatchLine.filter(Column("batch_id") == id).order(Column("line")).fetchAll(db)
    }
  }

  public func counts(_ id: String) throws -> BatchCounts {
    try database.writer.read { db in
      let row = try Row.fetchOne(
        db,
        sql: """
          SELECT COUNT(*) AS total,
            COALESCE(SUM(CASE WHEN finished_at IS NOT NULL AND status_code = 200 AND error IS NULL THEN 1 ELSE 0 END), 0) AS ok,
            COALESCE(SUM(CASE WHEN finished_at IS NOT NULL AND NOT (status_code = 200 AND error IS NULL) THEN 1 ELSE 0 END), 0) AS bad
          FROM batch_lines WHERE batch_id = ?
          """, arguments: [id])
      let job = try BatchJob.fetchOne(db, key: id)
      return BatchCounts(total: max(row?["total"] ?? 0, job?.total ?? 0), completed: row?["ok"] ?? 0, failed: row?["bad"] ?? 0)
    }
  }

  /// Records a finished line and, in the same transaction, its usage row and the release of its
  /// reservation. False (and nothing charged) if the line was already finished.
  @discardableResult
  public func finish(
    _ id: String, line: Int, outcome: BatchLineOutcome, reservation: Reservation?, usage: UsageRecord?,
    now: Date = Date()
  ) throws -> Bool {
    try database.writer.write { db in
      try db.execute(
        sql: """
          UPDATE batch_lines SET status_code = ?, response = ?, error = ?, request_id = ?, finished_at = ?
          WHERE batch_id = ? AND line = ? AND finished_at IS NULL
          """,
        arguments: [
          outcome.statusCode, outcome.response, outcome.error, outcome.requestID, now.timeIntervalSince1970, id, line,
        ])
      guard db.changesCount == 1 else {
        if let rid = reservation?.id { try db.execute(sql: "DELETE FROM reservations WHERE id = ?", arguments: [rid]) }
        return false
      }
      if let usage { _ = try QuotaLedger.settle(reservation, record: usage, db) } else if let rid = reservation?.id {
        try db.execute(sql: "DELETE FROM reservations WHERE id = ?", arguments: [rid])
      }
      return true
    }
  }
}
