import Engine
import Foundation
import Models
import TestSupport
import Testing
import Tokenizers

/// Admission on the real engine: groups (one API call's choices) count once against the queue,
/// and a group is refused only when no running slot is free for it and the queue is full.
@Suite("Engine admission", .serialized)
struct InferenceEngineAdmissionTests {
  func engine(maxRunning: Int, maxWaiting: Int) throws -> InferenceEngine {
    var c = EngineConfiguration()
    c.kvCacheBytes = 64 << 20
    c.maxRunning = maxRunning
    c.maxWaiting = maxWaiting
    return try InferenceEngine(
      model: try TestModels.model("smollm2-135m"), tokenizer: try Tokenizer(vocabulary: smolLM2Vocabulary()),
      configuration: c)
  }

  func request(_ id: String) -> EngineRequest {
    EngineRequest(id: id, promptIDs: [1, 2, 3, 4], maxTokens: 400, ignoreEndOfGeneration: true)
  }

  @Test func slotsFirstThenOneQueuedGroupHoweverLarge() async throws {
    let engine = try engine(maxRunning: 2, maxWaiting: 1)
    var streams = try engine.submit([request("a")]) + engine.submit([request("b")])
    // Two slots are taken; a group of three waits as one queued group, a fourth call is refused.
    streams += try engine.submit((0..<3).map { request("g\($0)") })
    #expect(throws: EngineError.queueFull(waiting: 1, retryAfterSeconds: 1)) { try engine.submit([request("late")]) }
    // All or none: a refused group leaves nothing behind.
    #expect(throws: EngineError.self) { try engine.submit([request("x0"), request("x1")]) }
    for id in ["a", "b", "g0", "g1", "g2"] { engine.cancel(id) }
    for s in streams { for await _ in s {} }
    let idle = await InferenceEngineTests.waitUntilIdle(engine)
    #expect(idle.kvBlocksUsed == 0)
    // With the slots free again, a burst of singles is admitted up to slots plus queue.
    var admitted = 0
    var more: [AsyncStream<EngineEvent>] = []
    for i in 0..<10 {
      guard let s = try? engine.submit([request("burst\(i)")]) else { continue }
      admitted += 1
      more += s
    }
    #expect(admitted == 3)
    for i in 0..<10 { engine.cancel("burst\(i)") }
    for s in more { for await _ in s {} }
  }

  @Test func noQueueStillTakesEveryFreeSlot() async throws {
    let engine = try engine(maxRunning: 4, maxWaiting: 0)
    var streams: [AsyncStream<EngineEvent>] = []
    for i in 0..<4 { streams += try engine.submit([request("s\(i)")]) }
    #expect(throws: EngineError.self) { try engine.submit([request("s4")]) }
    for i in 0..<4 { engine.cancel("s\(i)") }
    for s in streams { for await _ in s {} }
  }
}
