import Foundation
import GRDB

/// Tokens held for a request from admission until it settles.
public struct Reservation: Sendable, Equatable {
  /// The row in `reservations`; nil for unmetered principals (nothing held).
  public var id: Int64?
  public var principal: Principal
  public var tokens: Int
  public var requestID: String
  public var startedAt: Date
  /// The allowance right after this reservation (for the response's rate-limit headers).
  public var status: QuotaStatus?
}

/// Reserve-then-settle against rolling 24-hour allowances. Each step is one SQLite transaction,
/// so concurrent requests of one principal can never overspend, a settled request is never lost,
/// and reservations of a killed process are returned when the database is next opened.
public struct QuotaLedger: Sendable {
  let database: AccountsDatabase

  public init(_ database: AccountsDatabase) {
    self.database = database
  }

  /// Holds `tokens` (prompt + the most the request may generate) for `principal`, or says why not.
  public func reserve(
    _ principal: Principal, tokens: Int, requestID: String, now: Date = Date()
  ) async throws -> Reservation {
    guard principal.isMetered else {
      return Reservation(id: nil, principal: principal, tokens: tokens, requestID: requestID, startedAt: now)
    }
    let owner = database.owner
    return try await database.writer.write { db in
      let allowance = try Self.allowance(principal, now: now, db)
      if let refusal = allowance.admit(tokens: tokens) { throw refusal }
      try db.execute(
        sql: "INSERT INTO reservations (principal, request_id, tokens, owner, created_at) VALUES (?, ?, ?, ?, ?)",
        arguments: [principal.id, requestID, tokens, owner, now.timeIntervalSince1970])
      var after = allowance
      after.reserved += tokens
      after.recentRequests += 1
      after.oldestRequestAt = after.oldestRequestAt ?? now
      return Reservation(
        id: db.lastInsertedRowID, principal: principal, tokens: tokens, requestID: requestID, startedAt: now,
        status: after.status)
    }
  }

  /// Records the finished request (whatever its outcome) and releases its reservation, in one
  /// transaction. The charge is `record.chargedTokens`; its daily/pack split is filled in here.
  @discardableResult
  public func settle(_ reservation: Reservation?, record: UsageRecord) async throws -> UsageRecord {
    try await database.writer.write { db in try Self.settle(reservation, record: record, db) }
  }

  /// The same, blocking (for callers outside async code).
  @discardableResult
  public func settleNow(_ reservation: Reservation?, record: UsageRecord) throws -> UsageRecord {
    try database.writer.write { db in try Self.settle(reservation, record: record, db) }
  }

  /// Gives a reservation back without recording anything (the request never ran: refused by the
  /// engine's queue, or failed validation after admission).
  public func release(_ reservation: Reservation) async throws {
    guard let id = reservation.id else { return }
    try await database.writer.write { db in try db.execute(sql: "DELETE FROM reservations WHERE id = ?", arguments: [id]) }
  }

  /// The principal's allowance now (for headers and `/v1/usage/estimate`).
  public func status(_ principal: Principal, now: Date = Date()) throws -> QuotaStatus {
    try database.writer.read { db in try Self.allowance(principal, now: now, db).status }
  }

  /// Tokens currently held by running requests (all principals).
  public func outstandingReservations() throws -> Int {
    try database.writer.read { db in try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(tokens), 0) FROM reservations") ?? 0 }
  }

  static func settle(_ reservation: Reservation?, record: UsageRecord, _ db: Database) throws -> UsageRecord {
    var row = record.capped()
    if let reservation, reservation.principal.isMetered {
      let allowance = try allowance(reservation.principal, now: Date(timeIntervalSince1970: record.createdAt), db)
      let split = allowance.split(charge: record.chargedTokens)
      row.dailyTokens = split.daily
      row.packTokens = split.pack
      if split.pack > 0 {
        try db.execute(
          sql: "UPDATE api_keys SET pack_tokens = MAX(0, pack_tokens - ?) WHERE id = ?",
          arguments: [split.pack, reservation.principal.id])
      }
    } else {
      row.dailyTokens = record.chargedTokens
    }
    if let id = reservation?.id {
      try db.execute(sql: "DELETE FROM reservations WHERE id = ?", arguments: [id])
    }
    try row.insert(db)
    row.id = db.lastInsertedRowID
    return row
  }

  static func allowance(_ principal: Principal, now: Date, _ db: Database) throws -> Allowance {
    let t = now.timeIntervalSince1970
    let charges = try Row.fetchOne(
      db,
      sql: """
        SELECT COALESCE(SUM(daily_tokens), 0) AS used, MIN(created_at) AS oldest FROM usage
        WHERE api_key_id = ? AND created_at > ? AND daily_tokens > 0
        """,
      arguments: [principal.id, t - Allowance.window])
    let reserved =
      try Int.fetchOne(
        db, sql: "SELECT COALESCE(SUM(tokens), 0) FROM reservations WHERE principal = ?", arguments: [principal.id])
      ?? 0
    let pack =
      principal.kind == .storedKey
      ? try Int.fetchOne(db, sql: "SELECT pack_tokens FROM api_keys WHERE id = ?", arguments: [principal.id]) ?? 0
      : 0
    var recent = 0
    var oldestRequest: Double?
    if principal.tier.requestsPerMinute != nil {
      let since = t - Allowance.requestWindow
      let finished = try Row.fetchOne(
        db, sql: "SELECT COUNT(*) AS n, MIN(started_at) AS oldest FROM usage WHERE api_key_id = ? AND started_at > ?",
        arguments: [principal.id, since])
      let running = try Row.fetchOne(
        db,
        sql: "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM reservations WHERE principal = ? AND created_at > ?",
        arguments: [principal.id, since])
      recent = (finished?["n"] ?? 0) + (running?["n"] ?? 0)
      oldestRequest = [finished?["oldest"] as Double?, running?["oldest"] as Double?].compactMap { $0 }.min()
    }
    return Allowance(
      tier: principal.tier, now: now, usedDaily: charges?["used"] ?? 0,
      oldestChargeAt: (charges?["oldest"] as Double?).map(Date.init(timeIntervalSince1970:)), reserved: reserved,
      pack: pack, recentRequests: recent, oldestRequestAt: oldestRequest.map(Date.init(timeIntervalSince1970:)))
  }
}
