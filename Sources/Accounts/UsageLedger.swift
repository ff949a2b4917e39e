import Foundation
import GRDB

/// One row of a usage report: totals for a day, a key or a model.
public struct UsageSummary: Sendable, Equatable, Codable {
  /// The day (`2026-12-03`, UTC), key id or model name, depending on the grouping.
  public var group: String
  public var requests: Int
  public var inputTokens: Int
  public var cachedTokens: Int
  public var outputTokens: Int
  public var costInput: Double
  public var costOutput: Double
  public var cost: Double { costInput + costOutput }

  enum CodingKeys: String, CodingKey {
    case group, requests
    case inputTokens = "input_tokens"
    case cachedTokens = "cached_tokens"
    case outputTokens = "output_tokens"
    case costInput = "cost_input"
    case costOutput = "cost_output"
  }
}

/// Reads the `usage` table: reports for `/v1/usage` and `peregrine usage`.
public struct UsageLedger: Sendable {
  public enum Grouping: String, Sendable, CaseIterable {
    case day, key, model
  }

  let database: AccountsDatabase

  public init(_ database: AccountsDatabase) {
    self.database = database
  }

  /// Stores a record that no reservation covers (servers without metering, tools) and returns its
  /// row id; committed when this returns.
  @discardableResult
  public func insert(_ record: UsageRecord) throws -> Int64 {
    try QuotaLedger(database).settleNow(nil, record: record).id ?? 0
  }

  /// Corrects a stored record's status (a client that left during the last write: 499).
  public func setStatus(_ status: Int, id: Int64) throws {
    try database.writer.write { db in
      try db.execute(sql: "UPDATE usage SET status = ? WHERE id = ?", arguments: [status, id])
    }
  }

  /// Totals of requests that finished in [start, end), for one principal or (nil) everyone.
  public func summary(
    start: Date, end: Date, groupBy: Grouping, principal: String? = nil
  ) throws -> [UsageSummary] {
    let group: String
    switch groupBy {
    case .day: group = "strftime('%Y-%m-%d', created_at, 'unixepoch')"
    case .key: group = "COALESCE(api_key_id, '')"
    case .model: group = "model"
    }
    var sql = """
      SELECT \(group) AS g, COUNT(*) AS requests, SUM(prompt_tokens) AS input, SUM(cached_tokens) AS cached,
        SUM(completion_tokens) AS output, SUM(cost_input) AS ci, SUM(cost_output) AS co
      FROM usage WHERE created_at >= ? AND created_at < ?
      """
    var arguments: StatementArguments = [start.timeIntervalSince1970, end.timeIntervalSince1970]
    if let principal {
      sql += " AND api_key_id = ?"
      arguments += [principal]
    }
    sql += " GROUP BY g ORDER BY g"
    return try database.writer.read { db in
      try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
        UsageSummary(
          group: row["g"], requests: row["requests"], inputTokens: row["input"], cachedTokens: row["cached"],
          outputTokens: row["output"], costInput: row["ci"], costOutput: row["co"])
      }
    }
  }

  /// The newest records first.
  public func recent(limit: Int = 100) throws -> [UsageRecord] {
    try database.writer.read { db in
      try UsageRecord.order(Column("id").desc).limit(limit).fetchAll(db)
    }
  }

  public func count() throws -> Int {
    try database.writer.read { db in try UsageRecord.fetchCount(db) }
  }
}
