import Foundation
import GRDB

/// A key as the store keeps it: the secret itself is never stored, only its SHA-256.
public struct APIKey: Sendable, Equatable, Codable, FetchableRecord {
  public var id: String
  /// The first characters of the secret (`pk-AbCd…`), so a person can tell keys apart.
  public var prefix: String
  public var name: String
  public var tier: String
  public var createdAt: Double
  public var revokedAt: Double?
  /// Prepaid tokens left, used after the daily allowance.
  public var packTokens: Int

  enum CodingKeys: String, CodingKey {
    case id, prefix, name, tier
    case createdAt = "created_at"
    case revokedAt = "revoked_at"
    case packTokens = "pack_tokens"
  }
}

/// Keys, tiers and top-ups (`peregrine keys …`, the admin API, authentication).
public struct KeyStore: Sendable {
  let database: AccountsDatabase

  public init(_ database: AccountsDatabase) {
    self.database = database
  }

  /// Creates a key; the returned secret is shown once and cannot be recovered.
  public func create(name: String, tier: String) throws -> (secret: String, key: APIKey) {
    var bytes = [UInt8](repeating: 0, count: 24)
    var rng = SystemRandomNumberGenerator()
    for i in bytes.indices { bytes[i] = rng.next() }
    let secret = "pk-" + Data(bytes).base64EncodedString()
      .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    let id = "key_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
    let key = APIKey(
      id: id, prefix: String(secret.prefix(7)) + "…", name: String(name.prefix(256)), tier: tier,
      createdAt: Date().timeIntervalSince1970, revokedAt: nil, packTokens: 0)
    try database.writer.write { db in
      try Self.requireTier(tier, db)
      try db.execute(
        sql: "INSERT INTO api_keys (id, hash, prefix, name, tier, created_at, pack_tokens) VALUES (?, ?, ?, ?, ?, ?, 0)",
        arguments: [key.id, Self.hash(secret), key.prefix, key.name, key.tier, key.createdAt])
    }
    return (secret, key)
  }

  public func list(includeRevoked: Bool = true) throws -> [APIKey] {
    try database.writer.read { db in
      try APIKey.fetchAll(
        db,
        sql: "SELECT * FROM api_keys" + (includeRevoked ? "" : " WHERE revoked_at IS NULL") + " ORDER BY created_at")
    }
  }

  /// Whether any key, revoked or not, was ever created: one indexed probe, not a listing.
  public func anyKeyExists() throws -> Bool {
    try database.writer.read { db in
      try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM api_keys)") ?? false
    }
  }

  public func key(id: String) throws -> APIKey {
    try database.writer.read { db in
      guard let k = try APIKey.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [id]) else {
        throw AccountsError.unknownKey(id)
      }
      return k
    }
  }

  public func revoke(id: String) throws {
    try update(id, sql: "UPDATE api_keys SET revoked_at = ? WHERE id = ?", [Date().timeIntervalSince1970, id])
  }

  public func setTier(id: String, tier: String) throws {
    try database.writer.write { db in
      try Self.requireTier(tier, db)
      try db.execute(sql: "UPDATE api_keys SET tier = ? WHERE id = ?", arguments: [tier, id])
      if db.changesCount == 0 { throw AccountsError.unknownKey(id) }
    }
  }

  /// Adds a prepaid token pack to a key.
  public func topUp(id: String, tokens: Int) throws {
    guard tokens > 0 else { throw AccountsError.invalid("a top-up must add a positive number of tokens") }
    try database.writer.write { db in
      try db.execute(sql: "UPDATE api_keys SET pack_tokens = pack_tokens + ? WHERE id = ?", arguments: [tokens, id])
      if db.changesCount == 0 { throw AccountsError.unknownKey(id) }
      try db.execute(
        sql: "INSERT INTO top_ups (key_id, tokens, created_at) VALUES (?, ?, ?)",
        arguments: [id, tokens, Date().timeIntervalSince1970])
    }
  }

  /// The live key a presented secret belongs to, with its tier; nil if unknown or revoked.
  public func authenticate(secret: String) throws -> (APIKey, Tier)? {
    let hash = Self.hash(secret)
    return try database.writer.read { db in
      guard
        let key = try APIKey.fetchOne(
          db, sql: "SELECT * FROM api_keys WHERE hash = ? AND revoked_at IS NULL", arguments: [hash])
      else { return nil }
      return (key, try Self.tier(key.tier, db))
    }
  }

  // MARK: Tiers

  public func tiers() throws -> [Tier] {
    try database.writer.read { db in
      try Row.fetchAll(db, sql: "SELECT * FROM tiers ORDER BY name").map(Self.tier(row:))
    }
  }

  /// Creates or changes a tier (nil allowance = unlimited).
  public func setTier(_ tier: Tier) throws {
    guard !tier.name.isEmpty, tier.name.count <= 64 else { throw AccountsError.invalid("a tier needs a short name") }
    if let d = tier.dailyTokens, d < 0 { throw AccountsError.invalid("a daily allowance cannot be negative") }
    try database.writer.write { db in
      try db.execute(
        sql: """
          INSERT INTO tiers (name, daily_tokens, requests_per_minute) VALUES (?, ?, ?)
          ON CONFLICT(name) DO UPDATE SET daily_tokens = excluded.daily_tokens,
            requests_per_minute = excluded.requests_per_minute
          """,
        arguments: [tier.name, tier.dailyTokens, tier.requestsPerMinute])
    }
  }

  public func tier(named name: String) throws -> Tier {
    try database.writer.read { db in try Self.tier(name, db) }
  }

  static func tier(_ name: String, _ db: Database) throws -> Tier {
    guard let row = try Row.fetchOne(db, sql: "SELECT * FROM tiers WHERE name = ?", arguments: [name]) else {
      throw AccountsError.unknownTier(name, known: try String.fetchAll(db, sql: "SELECT name FROM tiers ORDER BY name"))
    }
    return tier(row: row)
  }

  static func tier(row: Row) -> Tier {
    Tier(name: row["name"], dailyTokens: row["daily_tokens"], requestsPerMinute: row["requests_per_minute"])
  }

  private static func requireTier(_ name: String, _ db: Database) throws {
    _ = try tier(name, db)
  }

  private func update(_ id: String, sql: String, _ arguments: StatementArguments) throws {
    try database.writer.write { db in
      try db.execute(sql: sql, arguments: arguments)
      if db.changesCount == 0 { throw AccountsError.unknownKey(id) }
    }
  }

  static func hash(_ secret: String) -> String {
    SHA256.hash(Array(secret.utf8)).map { String(format: "%02x", $0) }.joined()
  }
}
