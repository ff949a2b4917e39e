import Crypto
import Foundation
import GRDB

/// The SQLite file behind keys, allowances, usage and stored completions. Every change is one
/// transaction in WAL mode, so a kill -9 loses nothing that was committed and leaves no half-done
/// charge. `serve`, `batch run` and the `keys`/`usage` commands all open it.
public final class AccountsDatabase: Sendable {
  let writer: any DatabaseWriter
  /// Per-database secret for HMAC ids (static keys, client addresses): ids stay stable for this
  /// file and cannot be recomputed from a guessed key without it.
  let secret: SymmetricKey
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
    secret = try writer.write { db in try Self.loadSecret(db) }
    owner = Self.processOwner(pid: getpid())
    try releaseAbandonedReservations()
  }

  /// A stable, non-secret id for a secret string (`prefix-` + 16 hex digits of an HMAC-SHA256).
  public func derivedID(_ prefix: String, of secretText: String) -> String {
    let mac = HMAC<SHA256>.authenticationCode(for: Data(secretText.utf8), using: secret)
    return prefix + "-" + mac.prefix(8).map { String(format: "%02x", $0) }.joined()
  }

  /// `PRAGMA integrity_check`'s answer ("ok" when healthy).
  public func integrityCheck() throws -> String {
    try writer.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "" }
  }

  private static func loadSecret(_ db: Database) throws -> SymmetricKey {
    if let data = try Data.fetchOne(db, sql: "SELECT value FROM accounts_meta WHERE key = 'hmac_secret'") {
      return SymmetricKey(data: data)
    }
    let key = SymmetricKey(size: .bits256)
    let data = key.withUnsafeBytes { Data($0) }
    try db.execute(sql: "INSERT INTO accounts_meta (key, value) VALUES ('hmac_secret', ?)", arguments: [data])
    return key
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
