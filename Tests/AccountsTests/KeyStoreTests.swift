import Foundation
import GRDB
import Testing

@testable import Accounts

@Suite struct KeyStoreTests {
  func store() throws -> (KeyStore, AccountsDatabase) {
    let db = try AccountsDatabase(path: ":memory:")
    return (KeyStore(db), db)
  }

  @Test func secretsAreNeverStored() throws {
    let (keys, db) = try store()
    let (secret, key) = try keys.create(name: "alice", tier: "free")
    #expect(secret.hasPrefix("pk-") && secret.count > 30)
    #expect(key.prefix == String(secret.prefix(7)) + "…")
    let stored = try db.writer.read { d in try String.fetchAll(d, sql: "SELECT hash || prefix || name FROM api_keys") }
    #expect(!stored.joined().contains(secret))
    #expect(try keys.authenticate(secret: secret)?.0.id == key.id)
    #expect(try keys.authenticate(secret: secret + "x") == nil)
  }

  @Test func revokeSetTierAndTopUp() throws {
    let (keys, _) = try store()
    #expect(try keys.anyKeyExists() == false)
    let (secret, key) = try keys.create(name: "bob", tier: "free")
    #expect(try keys.anyKeyExists())
    try keys.setTier(id: key.id, tier: "unlimited")
    #expect(try keys.authenticate(secret: secret)?.1 == .unlimited)
    #expect(throws: AccountsError.self) { try keys.setTier(id: key.id, tier: "gold") }
    #expect(throws: AccountsError.self) { try keys.topUp(id: "key_nope", tokens: 5) }
    #expect(throws: AccountsError.self) { try keys.topUp(id: key.id, tokens: 0) }
    try keys.topUp(id: key.id, tokens: 5)
    #expect(try keys.key(id: key.id).packTokens == 5)
    try keys.revoke(id: key.id)
    #expect(try keys.authenticate(secret: secret) == nil)
    #expect(try keys.list(includeRevoked: false).isEmpty)
    #expect(try keys.list().count == 1)
    // A revoked key still counts: a server whose keys were all revoked stays closed.
    #expect(try keys.anyKeyExists())
  }

  @Test func tiersAreConfigurable() throws {
    let (keys, _) = try store()
    #expect(try keys.tiers().map(\.name) == ["anonymous", "free", "unlimited"])
    try keys.setTier(Tier(name: "free", dailyTokens: 8_000))
    try keys.setTier(Tier(name: "pro", dailyTokens: 100_000, requestsPerMinute: 60))
    #expect(try keys.tier(named: "free").dailyTokens == 8_000)
    #expect(try keys.tier(named: "pro").requestsPerMinute == 60)
    _ = try keys.create(name: "p", tier: "pro")
  }

  @Test func derivedIDsAreStablePerDatabaseAndHideTheInput() throws {
    let (_, a) = try store()
    let (_, b) = try store()
    #expect(a.digest.keyID("sk-1") == a.digest.keyID("sk-1"))
    #expect(a.digest.keyID("sk-1") != a.digest.keyID("sk-2"))
    #expect(a.digest.keyID("sk-1") != b.digest.keyID("sk-1"))
    #expect(a.digest.clientID("10.0.0.1").hasPrefix("anon-"))
    #expect(a.digest.clientID("10.0.0.1") != a.digest.keyID("10.0.0.1"))
  }
}

@Suite struct UsageLedgerTests {
  @Test func summariesEqualTheRowsTheyGroup() throws {
    let db = try AccountsDatabase(path: ":memory:")
    let ledger = UsageLedger(db)
    let day: Double = 86_400
    let base = (Date().timeIntervalSince1970 / day).rounded(.down) * day
    let rows: [(String, String, Double, Int, Int, Int)] = [
      ("key_a", "m1", base + 10, 100, 20, 30), ("key_a", "m2", base + 20, 50, 0, 10),
      ("key_b", "m1", base - day + 5, 10, 5, 1),
    ]
    for (i, r) in rows.enumerated() {
      try ledger.insert(
        UsageRecord(
          requestID: "r\(i)", createdAt: r.2, endpoint: "/v1/completions", model: r.1, apiKeyID: r.0,
          promptTokens: r.3, completionTokens: r.5, cachedTokens: r.4, status: 200,
          cost: Cost(input: Double(r.3) * 1e-6, output: Double(r.5) * 2e-6)))
    }
    let start = Date(timeIntervalSince1970: base - day)
    let end = Date(timeIntervalSince1970: base + day)
    let byKey = try ledger.summary(start: start, end: end, groupBy: .key)
    #expect(byKey.map(\.group) == ["key_a", "key_b"])
    #expect(byKey[0].requests == 2 && byKey[0].inputTokens == 150 && byKey[0].outputTokens == 40)
    #expect(byKey[0].cachedTokens == 20)
    #expect(abs(byKey[0].cost - (150e-6 + 80e-6)) < 1e-12)
    let byDay = try ledger.summary(start: start, end: end, groupBy: .day)
    #expect(byDay.count == 2 && byDay.map(\.requests) == [1, 2])
    let mine = try ledger.summary(start: start, end: end, groupBy: .model, principal: "key_b")
    #expect(mine.map(\.group) == ["m1"] && mine[0].inputTokens == 10)
  }
}

@Suite struct CompletionStoreTests {
  @Test func onlyTheOwnerSeesAStoredCompletion() async throws {
    let db = try AccountsDatabase(path: ":memory:")
    let store = CompletionStore(db)
    for i in 0..<3 {
      try await store.save(
        StoredCompletion(
          id: "chatcmpl-\(i)", principal: i == 2 ? "key_b" : "key_a", createdAt: Double(i), model: "m",
          request: "{}", response: "{}", metadata: nil))
    }
    #expect(try store.list(principal: "key_a").map(\.id) == ["chatcmpl-0", "chatcmpl-1"])
    #expect(try store.list(principal: "key_a", after: "chatcmpl-0").map(\.id) == ["chatcmpl-1"])
    #expect(try store.list(principal: "key_a", newestFirst: true).map(\.id) == ["chatcmpl-1", "chatcmpl-0"])
    #expect(try store.get(id: "chatcmpl-2", principal: "key_a") == nil)
    #expect(try await store.delete(id: "chatcmpl-2", principal: "key_a") == false)
    #expect(try await store.delete(id: "chatcmpl-2", principal: "key_b") == true)
  }
}
