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
    try migrator.migrate(queue)
  }

  public func insert(_ record: UsageRecord) throws {
    try queue.write { db in try record.insert(db) }
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
