import Engine
import Testing

/// Background requests (batch lines) run only in capacity foreground requests leave.
extension SchedulerTests {
  @Test(arguments: [21, 22] as [UInt64])
  func randomWorkloadsWithBackgroundWorkFinishWithEveryBlockFree(seed: UInt64) throws {
    var w = Workload()
    w.backgroundChance = 0.4
    let o = try simulate(w, seed: seed)
    #expect(o.finished > 0 && o.cancelled > 0 && o.preemptions > 0)
  }

  func backgroundConfig() -> SchedulerConfiguration {
    var c = SchedulerConfiguration()
    c.maxBatchTokens = 64
    c.blockCount = 40
    c.blockSize = 4
    c.backgroundStepTokens = 8
    return c
  }

  /// Advances one step: computes it and gives every sampling chunk a token.
  func advance(_ s: inout Scheduler) -> SchedulerOutput {
    let plan = s.schedule()
    s.didCompute(plan)
    for c in plan.chunks where c.samples { s.append(c.id, token: 1) }
    return plan
  }

  @Test func backgroundPausesWhileForegroundWorkExists() throws {
    var s = Scheduler(backgroundConfig())
    try s.add(id: "batch", promptIDs: Array(repeating: 3, count: 20), maxTokens: 30, priority: EngineRequest.batchPriority)
    // Alone, it gets the small background budget per step.
    var plan = advance(&s)
    #expect(plan.chunks.map(\.id) == ["batch"] && plan.tokenCount == 8)
    try s.add(id: "chat", promptIDs: Array(repeating: 5, count: 10), maxTokens: 3)
    // While the interactive request runs, the batch line computes nothing (it keeps its blocks).
    for _ in 0..<3 {
      plan = advance(&s)
      #expect(plan.chunks.map(\.id) == ["chat"])
    }
    s.remove("chat")
    plan = advance(&s)
    #expect(plan.chunks.map(\.id) == ["batch"] && plan.tokenCount == 8)
  }

  @Test func foregroundArrivalPreemptsBackgroundForBlocks() throws {
    var s = Scheduler(backgroundConfig())
    // Two batch lines take 32 of the 40 blocks.
    for i in 0..<2 {
      try s.add(
        id: "batch\(i)", promptIDs: Array(repeating: Int32(i), count: 64), maxTokens: 0,
        priority: EngineRequest.batchPriority)
    }
    while s.pool.freeCount > 8 { _ = advance(&s) }
    try s.add(id: "chat", promptIDs: Array(repeating: 9, count: 60), maxTokens: 4)
    let plan = advance(&s)
    #expect(plan.chunks.map(\.id) == ["chat"])
    #expect(!plan.preempted.isEmpty && plan.preempted.allSatisfy { $0.hasPrefix("batch") })
  }

  @Test func foregroundTakesTheRunningSlotOfPausedBackground() throws {
    var c = backgroundConfig()
    c.maxRunning = 2
    var s = Scheduler(c)
    for i in 0..<2 {
      try s.add(id: "batch\(i)", promptIDs: [1, 2, 3], maxTokens: 50, priority: EngineRequest.batchPriority)
    }
    _ = advance(&s)
    #expect(s.runningCount == 2)
    try s.add(id: "chat", promptIDs: [4, 5, 6], maxTokens: 5)
    let plan = advance(&s)
    #expect(plan.chunks.map(\.id) == ["chat"])
    #expect(plan.preempted.count == 1)
  }
}
