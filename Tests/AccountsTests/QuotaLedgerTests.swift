import Foundation
import GRDB
import Testing

@testable import Accounts

@Suite struct QuotaLedgerTests {
  func freshDatabase() throws -> (AccountsDatabase, String) {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("accounts-\(UUID().uuidString).sqlite").path
    return (try AccountsDatabase(path: path), path)
  }

  func record(_ id: String, principal: String, prompt: Int, completion: Int, at: Date = Date()) -> UsageRecord {
    UsageRecord(
      requestID: id, createdAt: at.timeIntervalSince1970, endpoint: "/v1/chat/completions", model: "m",
      apiKeyID: principal, promptTokens: prompt, completionTokens: completion, status: 200)
  }

  @Test func concurrentReservationsNeverOverspend() async throws {
    let (db, _) = try freshDatabase()
    let ledger = QuotaLedger(db)
    let who = Principal(id: "anon-1", kind: .anonymous, tier: .anonymous)
    // 40 requests that may each use 300 tokens against 2,500: at most 8 fit at once.
    let admitted = await withTaskGroup(of: Bool.self) { group in
      for i in 0..<40 {
        group.addTask { (try? await ledger.reserve(who, tokens: 300, requestID: "r\(i)")) != nil }
      }
      return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
    }
    #expect(admitted == 8)
    #expect(try ledger.status(who).remainingTokens == 100)
  }

  @Test func settlingReturnsWhatWasNotUsed() async throws {
    let (db, _) = try freshDatabase()
    let ledger = QuotaLedger(db)
    let who = Principal(id: "anon-2", kind: .anonymous, tier: .anonymous)
    let r = try await ledger.reserve(who, tokens: 2_000, requestID: "a")
    #expect(r.status?.remainingTokens == 500)
    await #expect(throws: AccountsError.self) { try await ledger.reserve(who, tokens: 600, requestID: "b") }
    let row = try await ledger.settle(r, record: record("a", principal: who.id, prompt: 100, completion: 50))
    #expect(row.chargedTokens == 150)
    #expect(row.dailyTokens == 150)
    #expect(try ledger.status(who).remainingTokens == 2_350)
    #expect(try ledger.outstandingReservations() == 0)
  }

  @Test func chargesLeaveTheWindowAfter24Hours() async throws {
    let (db, _) = try freshDatabase()
    let ledger = QuotaLedger(db)
    let who = Principal(id: "anon-3", kind: .anonymous, tier: .anonymous)
    // One fixed "now": a slow machine must not move the window under the test.
    let now = Date()
    let old = now.addingTimeInterval(-Allowance.window + 30)
    let r = try await ledger.reserve(who, tokens: 2_500, requestID: "x", now: old)
    try await ledger.settle(r, record: record("x", principal: who.id, prompt: 2_000, completion: 500, at: old))
    let status = try ledger.status(who, now: now)
    #expect(status.remainingTokens == 0)
    let wait = status.tokensResetAt!.timeIntervalSince(now)
    #expect(abs(wait - 30) < 0.01)
    #expect(try ledger.status(who, now: now.addingTimeInterval(31)).remainingTokens == 2_500)
  }

  @Test func prepaidTokensAreUsedAfterTheDailyAllowance() async throws {
    let (db, _) = try freshDatabase()
    let keys = KeyStore(db)
    let (secret, key) = try keys.create(name: "team", tier: "free")
    try keys.topUp(id: key.id, tokens: 1_000)
    let (found, tier) = try #require(try keys.authenticate(secret: secret))
    #expect(found.id == key.id && tier == .free)
    let who = Principal(id: key.id, kind: .storedKey, tier: tier)
    let ledger = QuotaLedger(db)
    #expect(try ledger.status(who).remainingTokens == 6_000)
    let r = try await ledger.reserve(who, tokens: 5_500, requestID: "big")
    let row = try await ledger.settle(r, record: record("big", principal: who.id, prompt: 5_000, completion: 400))
    #expect(row.dailyTokens == 5_000 && row.packTokens == 400)
    #expect(try keys.key(id: key.id).packTokens == 600)
    #expect(try ledger.status(who).remainingTokens == 600)
  }

  @Test func reservationsOfAKilledProcessComeBackOnReopen() async throws {
    let (db, path) = try freshDatabase()
    let who = Principal(id: "anon-4", kind: .anonymous, tier: .anonymous)
    _ = try await QuotaLedger(db).reserve(who, tokens: 1_000, requestID: "live")
    // A reservation left by a process that no longer exists.
    try await db.writer.write { d in
      try d.execute(
        sql: "INSERT INTO reservations (principal, request_id, tokens, owner, created_at) VALUES (?, 'dead', 900, ?, ?)",
        arguments: [who.id, "2147483000:1", Date().timeIntervalSince1970])
    }
    #expect(try QuotaLedger(db).status(who).remainingTokens == 600)
    let reopened = try AccountsDatabase(path: path)
    // Ours (this process is alive) stays held; the dead one is gone.
    #expect(try QuotaLedger(reopened).status(who).remainingTokens == 1_500)
    #expect(try reopened.integrityCheck() == "ok")
  }

  @Test func unmeteredPrincipalsHoldNothing() async throws {
    let (db, _) = try freshDatabase()
    let ledger = QuotaLedger(db)
    let r = try await ledger.reserve(.open, tokens: 1_000_000, requestID: "o")
    #expect(r.id == nil && r.status == nil)
    try await ledger.settle(r, record: record("o", principal: "open", prompt: 10, completion: 10))
    #expect(try UsageLedger(db).count() == 1)
  }
}
