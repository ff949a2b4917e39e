import Accounts
import Foundation
import GRDB
import Logging

/// Usage records in SQLite, so they outlive the process. Writes are small and rare next to
/// generation, so they happen inline on the finishing request's task.
public final class UsageStore: Sendable {
  private let queue: DatabaseQueue

  /// Opens (creating if needed) the database at `path`; ":memory:" keeps it in memory.
  public init(path: String) throws {
    if path != ":memory:" {
      let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      queue = try DatabaseQueue(path: path)
    } else {
      queue = try DatabaseQueue()
    }
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1") { db in
      try db.create(table: UsageRecord.databaseTableName) { t in
        t.autoIncrementedPrimaryKey("id")
        t.column("request_id", .text).notNull()
        t.column("created_at", .double).notNull()
        t.column("endpoint", .text).notNull()
        t.column("model", .text).notNull()
        t.column("user", .text)
        t.column("api_key_id", .text)
        t.column("prompt_tokens", .integer).notNull()
        t.column("completion_tokens", .integer).notNull()
        t.column("cached_tokens", .integer).notNull()
        t.column("queue_s", .double).notNull()
        t.column("ttft_s", .double).notNull()
        t.column("e2e_s", .double).notNull()
        t.column("decode_tokens_per_second", .double).notNull()
        t.column("status", .integer).notNull()
        t.column("finish_reason", .text)
      }
      try db.create(index: "usage_by_time", on: UsageRecord.databaseTableName, columns: ["created_at"])
    }
    // Secrets that belong with the records, such as the HMAC key behind `api_key_id` (rows written
    // before v2 carry the older unsalted FNV-1a ids).
    migrator.registerMigration("v2-secrets") { db in
      try db.create(table: "secret") { t in
        t.primaryKey("name", .text)
        t.column("value", .blob).notNull()
      }
    }
    try migrator.migrate(queue)
  }

  /// Stores a record (its strings capped, `UsageRecord.capped`) and returns its row id. The write
  /// is committed when this returns, so a crash right after cannot lose it.
  @discardableResult
  public func insert(_ record: UsageRecord) throws -> Int64 {
    let r = record.capped()
    return try queue.write { db in
      try r.insert(db)
      return db.lastInsertedRowID
    }
  }

  /// Corrects a stored record's status (a client that left during the last write: 499).
  public func setStatus(_ status: Int, id: Int64) throws {
    try queue.write { db in
      try db.execute(
        sql: "UPDATE \(UsageRecord.databaseTableName) SET status = ? WHERE id = ?", arguments: [status, id])
    }
  }

  /// The secret stored under `name`, made (32 random bytes) on first use. Ids derived from it stay
  /// stable for as long as the database lives.
  public func secret(named name: String) throws -> [UInt8] {
    try queue.write { db in
      if let data = try Data.fetchOne(db, sql: "SELECT value FROM secret WHERE name = ?", arguments: [name]) {
        return [UInt8](data)
      }
      let value = KeyDigest.randomSecret()
      try db.execute(sql: "INSERT INTO secret (name, value) VALUES (?, ?)", arguments: [name, Data(value)])
      return value
    }
  }

  /// The newest records first.
  public func recent(limit: Int = 100) throws -> [UsageRecord] {
    try queue.read { db in
      try UsageRecord.order(Column("id").desc).limit(limit).fetchAll(db)
    }
  }

  public func count() throws -> Int {
    try queue.read { db in try UsageRecord.fetchCount(db) }
  }
}
