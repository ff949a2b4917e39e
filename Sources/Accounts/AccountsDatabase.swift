import Foundation
import GRDB

/// The SQLite file behind keys, allowances, usage and stored completions. Every change is one
/// transaction in WAL mode, so a kill -9 loses nothing that was committed and leaves no half-done
/// charge. `serve`, `batch run` and the `keys`/`usage` commands all open it.
public final class AccountsDatabase: Sendable {
  let writer: any DatabaseWriter
  /// Keyed with this file's own secret: ids of `--api-key` keys and client addresses stay stable
  /// for the file and cannot be recomputed from a guessed key without it.
  public let digest: KeyDigest
  /// This process, as reservations name their owner: `pid:start-time` (a reused pid differs).
  let owner: String

  /// Opens (creating if needed) the database at `path`; ":memory:" keeps it in memory.
  public init(path: String) throws {
    var config = Configuration()
    config.busyMode = .timeout(10)
    if path == ":memory:" {
      writer = try DatabaseQueue(configuration: config)
    } else {
      let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      writer = try DatabasePool(path: path, configuration: config)
    }
    try Self.migrator.migrate(writer)
    digest = KeyDigest(secret: try writer.write { db in try Self.secret(named: "api_key_id", db) })
    owner = Self.processOwner(pid: getpid())
    try releaseAbandonedReservations()
  }


  /// `PRAGMA integrity_check`'s answer ("ok" when healthy).
  public func integrityCheck() throws -> String {
    try writer.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "" }
  }

  /// The secret stored under `name`, made (32 random bytes) on first use.
  static func secret(named name: String, _ db: Database) throws -> [UInt8] {
    if let data = try Data.fetchOne(db, sql: "SELECT value FROM secret WHERE name = ?", arguments: [name]) {
      return [UInt8](data)
    }
    let value = KeyDigest.randomSecret()
    try db.execute(sql: "INSERT INTO secret (name, value) VALUES (?, ?)", arguments: [name, Data(value)])
    return value
  }

  /// Reservations whose process is gone (killed mid-request) give their tokens back.
  private func releaseAbandonedReservations() throws {
    try writer.write { db in
      let owners = try String.fetchAll(db, sql: "SELECT DISTINCT owner FROM reservations")
      for o in owners where !Self.isAlive(owner: o) {
        try db.execute(sql: "DELETE FROM reservations WHERE owner = ?", arguments: [o])
      }
    }
  }

  static func processOwner(pid: Int32) -> String {
    "\(pid):\(startTime(pid: pid) ?? "?")"
  }

  static func isAlive(owner: String) -> Bool {
    guard let pid = Int32(owner.split(separator: ":").first ?? "") else { return false }
    return processOwner(pid: pid) == owner && startTime(pid: pid) != nil
  }

  /// Field 22 of `/proc/PID/stat` (start time in clock ticks since boot).
  static func startTime(pid: Int32) -> String? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    return fields.count > 19 ? String(fields[19]) : nil
  }
}
