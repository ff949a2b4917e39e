import Foundation
import GRDB
import Testing

@testable import Accounts

/// Files and batch jobs: ownership, state changes, and a line counted (and charged) exactly once.
@Suite struct BatchStoreTests {
  func fresh() throws -> (BatchStore, AccountsDatabase) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("batchstore-\(UUID().uuidString)")
    let db = try AccountsDatabase(path: dir.appendingPathComponent("usage.sqlite").path)
    return (BatchStore(db, files: FileStore(db, directory: dir.appendingPathComponent("files"))), db)
  }

  func job(_ id: String, owner: String = "key_a", now: Double = 1000) -> BatchJob {
    BatchJob(
      id: id, owner: owner, ownerKind: "stored", endpoint: "/v1/chat/completions", inputFileID: "file-1",
      completionWindow: "24h", metadata: nil, createdAt: now, expiresAt: now + 86400)
  }

  @Test func filesBelongToTheirOwner() throws {
    let (store, _) = try fresh()
    let f = try store.files.save(Data("hello\n".utf8), id: "file-1", owner: "key_a", filename: "in.jsonl", purpose: "batch")
    #expect(f.bytes == 6)
    #expect(try store.files.get(id: "file-1", owner: "key_a") != nil)
    #expect(try store.files.get(id: "file-1", owner: "key_b") == nil)
    #expect(try store.files.content(of: f) == Data("hello\n".utf8))
    #expect(try store.files.list(owner: "key_b").isEmpty)
    #expect(try store.files.delete(id: "file-1", owner: "key_b") == false)
    #expect(try store.files.delete(id: "file-1", owner: "key_a") == true)
    #expect(try store.files.get(id: "file-1", owner: "key_a") == nil)
  }

  @Test func aLineIsFinishedAndChargedOnce() throws {
    let (store, db) = try fresh()
    try store.create(job("batch_1"))
    let lines = (0..<3).map { BatchLine(batchID: "batch_1", line: $0, customID: "c\($0)", body: "{}") }
    #expect(try store.accept("batch_1", lines: lines))
    #expect(try store.get(id: "batch_1")?.status == .inProgress)
    let usage = UsageRecord(
      requestID: "r", createdAt: 2000, endpoint: "chat.completions", model: "m", apiKeyID: "key_a", promptTokens: 5,
      completionTokens: 2, status: 200, batch: true)
    let ok = BatchLineOutcome(statusCode: 200, response: "{}", error: nil, requestID: "r")
    #expect(try store.finish("batch_1", line: 1, outcome: ok, reservation: nil, usage: usage))
    // The same line again (a duplicate run): not recorded, not charged.
    #expect(try store.finish("batch_1", line: 1, outcome: ok, reservation: nil, usage: usage) == false)
    #expect(try UsageLedger(db).count() == 1)
    let bad = BatchLineOutcome(statusCode: 400, response: "{}", error: nil, requestID: "r2")
    #expect(try store.finish("batch_1", line: 2, outcome: bad, reservation: nil, usage: nil))
    #expect(try store.counts("batch_1") == BatchCounts(total: 3, completed: 1, failed: 1))
    #expect(try store.pendingLines("batch_1", limit: 10).map(\.line) == [0])
    #expect(try store.pendingLines("batch_1", excluding: [0], limit: 10).isEmpty)
  }

  @Test func duplicateCustomIDsCannotBeStored() throws {
    let (store, _) = try fresh()
    try store.create(job("batch_1"))
    let lines = (0..<2).map { BatchLine(batchID: "batch_1", line: $0, customID: "same", body: "{}") }
    #expect(throws: (any Error).self) { try store.accept("batch_1", lines: lines) }
    // The transaction rolled back: nothing stored, still validating.
    #expect(try store.lines("batch_1").isEmpty)
    #expect(try store.get(id: "batch_1")?.status == .validating)
  }

  @Test func cancelAndTransitions() throws {
    let (store, _) = try fresh()
    try store.create(job("batch_1"))
    try store.create(job("batch_2", owner: "key_b", now: 1001))
    #expect(try store.requestCancel(id: "batch_1", owner: "key_b") == nil)
    #expect(try store.requestCancel(id: "batch_1", owner: "key_a")?.status == .cancelling)
    #expect(try store.active().map(\.id) == ["batch_1", "batch_2"])
    try store.transition("batch_1", to: .cancelled)
    #expect(try store.get(id: "batch_1")?.cancelledAt != nil)
    // A terminal batch stays terminal.
    try store.transition("batch_1", to: .completed)
    #expect(try store.get(id: "batch_1")?.status == .cancelled)
    try store.fail("batch_2", errors: "[]", total: 4)
    #expect(try store.get(id: "batch_2")?.status == .failed)
    #expect(try store.active().isEmpty)
    #expect(try store.list(owner: "key_a").map(\.id) == ["batch_1"])
  }
}
