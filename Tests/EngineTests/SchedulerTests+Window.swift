import Engine
import Testing

/// The scheduler with a sliding-window layer group in a pool of its own (Gemma 3's local layers):
/// the fake model's random workloads, now also checking the window pool's contents and usage.
extension SchedulerTests {
  static func windowed(_ window: Int, blocks: Int) -> Workload {
    var w = Workload()
    w.window = window
    w.windowBlockCount = blocks
    return w
  }

  /// 8 running sequences would need ~4 window blocks each: 20 blocks force preemption by window
  /// pressure too, on top of random preemption and cancellation.
  @Test(arguments: [1, 2, 3] as [UInt64])
  func windowedWorkloadsFinishWithEveryBlockFree(seed: UInt64) throws {
    let o = try simulate(Self.windowed(10, blocks: 20), seed: seed)
    #expect(o.finished > 0 && o.cancelled > 0)
    #expect(o.preemptions > 0 && o.hits > 0)
  }

  @Test(arguments: [5, 6] as [UInt64])
  func windowedDraftsRollBackCleanly(seed: UInt64) throws {
    var w = Self.windowed(9, blocks: 24)
    w.speculate = true
    let o = try simulate(w, seed: seed)
    #expect(o.finished > 0 && o.preemptions > 0 && o.hits > 0)
    #expect(o.drafted > 500 && o.accepted > 0 && o.accepted < o.drafted, "drafted \(o.drafted), accepted \(o.accepted)")
  }

  /// A window pool of exactly one sequence's need: every request still finishes, by preemption.
  @Test func windowPoolPressureAloneForcesPreemption() throws {
    var w = Self.windowed(10, blocks: 10)  // ⌈(10 + 24) / 4⌉ + 1
    w.requests = 400
    w.blockCount = 200
    w.preemptChance = 0
    w.cancelChance = 0
    w.speculate = true
    let o = try simulate(w, seed: 12)
    #expect(o.finished == 400)
    #expect(o.preemptions > 0)
  }

  /// A window of one block and windows longer than any request behave like the edge cases they are.
  @Test(arguments: [(4, 12), (1, 10), (200, 40)] as [(Int, Int)])
  func windowEdgeSizes(window: Int, blocks: Int) throws {
    var w = Self.windowed(window, blocks: blocks)
    w.requests = 300
    w.speculate = true
    let o = try simulate(w, seed: UInt64(window))
    #expect(o.finished > 0 && o.hits > 0)
  }

  /// Runs one request alone until it samples, then removes it.
  func runAlone(_ s: inout Scheduler, _ id: String, _ prompt: [Int32]) throws -> Int {
    try s.add(id: id, promptIDs: prompt, maxTokens: 1)
    var cached = -1
    for _ in 0..<100 {
      let plan = s.schedule()
      if cached < 0 { cached = s.cachedPromptTokens(of: id) }
      s.didCompute(plan)
      if plan.chunks.contains(where: { $0.id == id && $0.samples }) {
        s.remove(id)
        return cached
      }
    }
    Issue.record("\(id) never sampled")
    return cached
  }

  /// A prefix hit needs the window pool only for the window before the first position to compute:
  /// evicting earlier window blocks keeps the hit, evicting one inside that window shrinks it to
  /// what both pools hold, even though the full-history pool still has every block.
  @Test func prefixHitNeedsOnlyTheWindowBeforeTheReusedPrefix() throws {
    var config = SchedulerConfiguration()
    config.blockSize = 4
    config.blockCount = 100
    config.maxBatchTokens = 8
    config.contextLength = 100
    config.window = 6
    config.windowBlockCount = 12
    let a: [Int32] = (0..<41).map { Int32($0 % 7 + 1) }
    func other(_ n: Int, _ base: Int32) -> [Int32] { (0..<n).map { base + Int32($0) } }

    // A leaves its window blocks free but cached, released in order 0…8, then 10, 9 (one block
    // was never used). E' (7 blocks) evicts the unused one and blocks 0…5: the hit of 10 blocks
    // needs only blocks 8 and 9 (positions 35…39).
    var s = Scheduler(config)
    #expect(try runAlone(&s, "A", a) == 0)
    #expect(try runAlone(&s, "E'", other(25, 100)) == 0)
    #expect(try runAlone(&s, "B", a + [99]) == 40)

    // E (10 blocks) also evicts blocks 6…8: block 8 is inside the window, and no shorter prefix has
    // its window either, so nothing is reused.
    var t = Scheduler(config)
    #expect(try runAlone(&t, "A", a) == 0)
    #expect(try runAlone(&t, "E", other(37, 100)) == 0)
    #expect(t.pool.freeCount == 100 && t.windowPool?.freeCount == 12)
    #expect(try runAlone(&t, "B", a + [99]) == 0)
  }

  @Test func refusesWhatCanNeverFitTheWindowPool() {
    var config = SchedulerConfiguration()
    config.blockSize = 4
    config.blockCount = 100
    config.maxBatchTokens = 8
    config.contextLength = 400
    config.window = 16
    config.windowBlockCount = 6  // one sequence may need ⌈(16 + 8) / 4⌉ + 1 = 7
    var s = Scheduler(config)
    #expect(throws: EngineError.exceedsCacheCapacity(neededTokens: 28, capacityTokens: 24)) {
      try s.add(id: "x", promptIDs: Array(repeating: 1, count: 30), maxTokens: 10)
    }
    // A request shorter than the pool fits whatever the window.
    #expect(throws: Never.self) { try s.add(id: "y", promptIDs: Array(repeating: 1, count: 10), maxTokens: 10) }
  }
}

@Suite("Scheduler prefix reuse across batched float orders")
struct SchedulerOrderTests {
  /// Runs `prompt` to the end of its prefill in `s` and returns how many of its tokens were reused.
  func prefill(_ s: inout Scheduler, id: String, _ prompt: [Int32]) throws -> Int {
    try s.add(id: id, promptIDs: prompt, maxTokens: 4)
    var steps = 0
    while s.computedCount(of: id) < prompt.count, steps < 100 {
      s.didCompute(s.schedule())
      steps += 1
    }
    return s.cachedPromptTokens(of: id)
  }

  /// Two prompts share 32 tokens; by the prompt length, positions 16..<32 take llama.cpp's batched
  /// Q4_K order in different places, so the second may reuse only the first block (Gemma 3 under
  /// `.exact`), while a model whose order ignores the prompt length reuses both.
  @Test(arguments: [true, false])
  func blocksComputedInAnotherOrderAreNotReused(ordersByPromptLength: Bool) throws {
    var config = SchedulerConfiguration()
    config.blockSize = 16
    config.blockCount = 200
    config.maxBatchTokens = 256
    config.ordersByPromptLength = ordersByPromptLength
    var s = Scheduler(config)
    let shared = (0..<32).map { Int32($0 % 7 + 3) }
    let first = shared + (0..<503).map { Int32($0 % 11 + 20) }  // 535 tokens
    let second = shared + (0..<507).map { Int32($0 % 13 + 40) }  // 539 tokens
    #expect(try prefill(&s, id: "a", first) == 0)
    #expect(try prefill(&s, id: "b", second) == (ordersByPromptLength ? 16 : 32))
  }
}
