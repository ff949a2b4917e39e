import Engine
import TestSupport
import Testing

/// The scheduler driven by a fake model: a "KV cache" that stores, for every slot, the token whose
/// keys would live there. Every step checks that a chunk's earlier positions hold exactly its
/// sequence's tokens (so prefix sharing, eviction and preemption never hand out wrong contents),
/// that the budget holds, and at the end that every request finished and every block is free.
@Suite("Scheduler with a fake model")
struct SchedulerTests {
  struct Workload {
    var requests = 2000
    var blockCount = 48
    var blockSize = 4
    var budget = 24
    var maxRunning = 8
    var cancelChance = 0.01
    var preemptChance = 0.03
    var prefixCaching = true
    /// Draft tokens for decodes (speculative decoding), mostly but not always the fake model's choice.
    var speculate = false
    /// A sliding-window layer group with its own pool (nil: one pool for every layer).
    var window: Int? = nil
    var windowBlockCount = 0
    /// Share of requests submitted as background work (batch lines, priority below 0).
    var backgroundChance = 0.0
  }

  struct Outcome {
    var finished = 0
    var cancelled = 0
    var preemptions = 0
    var hits = 0
    var drafted = 0
    var accepted = 0
  }

  /// Runs a random workload to completion.
  func simulate(_ w: Workload, seed: UInt64) throws -> Outcome {
    var rng = SplitMix64(seed: seed)
    var config = SchedulerConfiguration()
    config.blockCount = w.blockCount
    config.blockSize = w.blockSize
    config.maxBatchTokens = w.budget
    config.maxRunning = w.maxRunning
    config.maxWaiting = 16
    config.contextLength = 120
    config.prefixCaching = w.prefixCaching
    config.speculativeStepTokens = w.budget
    config.window = w.window
    config.windowBlockCount = w.windowBlockCount
    var s = Scheduler(config)
    // The window pool's slots, like `kv`; its tables may hold -1 behind the window.
    var windowKV = [UInt64](repeating: 0, count: max(1, w.windowBlockCount) * w.blockSize)
    var done: Set<String> = []
    // What each slot holds: like real keys, it depends on the token and everything before it.
    var kv = [UInt64](repeating: 0, count: w.blockCount * w.blockSize)
    func contents(_ tokens: [Int32], through p: Int) -> UInt64 {
      var h: UInt64 = 1469598103934665603
      for t in tokens[...p] { h = (h ^ UInt64(UInt32(bitPattern: t))) &* 1099511628211 }
      return h
    }
    // The fake model's choice after a sequence when speculating: a function of the whole sequence,
    // so drafts can be checked the way the engine checks them.
    func truth(_ tokens: [Int32]) -> Int32 { Int32((contents(tokens, through: tokens.count - 1) >> 17) & 1) }
    var drafted = 0, accepted = 0
    let prefixes: [[Int32]] = (0..<4).map { _ in (0..<Int.random(in: 4...40, using: &rng)).map { _ in Int32.random(in: 0..<50, using: &rng) } }
    var target: [String: Int] = [:]  // generated tokens at which a request "hits EOS"
    var live: [String] = []
    var submitted = 0, finished = 0, cancelled = 0, steps = 0

    while submitted < w.requests || s.hasWork {
      steps += 1
      #expect(steps < 200_000, "no progress")
      if steps >= 200_000 { break }
      for _ in 0..<Int.random(in: 0...2, using: &rng) where submitted < w.requests {
        var prompt = prefixes[Int.random(in: 0..<prefixes.count, using: &rng)]
        prompt += (0..<Int.random(in: 1...30, using: &rng)).map { _ in Int32.random(in: 0..<2, using: &rng) }  // tiny alphabet: equal blocks after different prefixes
        let maxTokens = Int.random(in: 1...40, using: &rng)
        let id = "r\(submitted)"
        guard s.waitingCount < config.maxWaiting else { break }
        let background = Double.random(in: 0..<1, using: &rng) < w.backgroundChance
        try s.add(
          id: id, promptIDs: prompt, maxTokens: maxTokens,
          priority: background ? EngineRequest.batchPriority : Int.random(in: 0...1, using: &rng))
        submitted += 1
        live.append(id)
        target[id] = Int.random(in: 1...maxTokens, using: &rng)
      }
      if !live.isEmpty && Double.random(in: 0..<1, using: &rng) < w.cancelChance {
        let id = live.remove(at: Int.random(in: 0..<live.count, using: &rng))
        s.remove(id)
        cancelled += 1
      }
      if !live.isEmpty && Double.random(in: 0..<1, using: &rng) < w.preemptChance {
        s.preempt(live[Int.random(in: 0..<live.count, using: &rng)])
      }

      let plan = s.schedule { _, tokens, maxCount in
        guard w.speculate else { return [] }
        #expect(maxCount >= 1)
        var seq = tokens
        var drafts: [Int32] = []
        for _ in 0..<Int.random(in: 0...(maxCount + 1), using: &rng) {  // sometimes more than allowed
          let t = Double.random(in: 0..<1, using: &rng) < 0.75 ? truth(seq) : Int32.random(in: 0..<2, using: &rng)
          drafts.append(t)
          seq.append(t)
        }
        return drafts
      }
      #expect(plan.tokenCount <= w.budget)
      #expect(Set(plan.chunks.map(\.id)).count == plan.chunks.count)
      for c in plan.chunks {
        let tokens = s.tokens(of: c.id)!
        #expect(c.blockTable.count * w.blockSize >= c.start + c.count)
        for p in 0..<c.start {
          let slot = Int(c.blockTable[p / w.blockSize]) * w.blockSize + p % w.blockSize
          if kv[slot] != contents(tokens, through: p) {
            Issue.record("\(c.id): position \(p) holds keys of another prefix")
            return Outcome(finished: finished, cancelled: cancelled)
          }
        }
        if let window = w.window {
          // The windowed layers read the window of the chunk's first position from their own pool.
          guard let table = c.windowTable, table.count == c.blockTable.count else {
            Issue.record("\(c.id): window table missing or not as long as the block table")
            return Outcome(finished: finished, cancelled: cancelled)
          }
          let first = max(0, c.start - window + 1)
          for i in (first / w.blockSize)..<table.count
          where table[i] < 0 || Int(table[i]) >= w.windowBlockCount || s.windowPool!.references(table[i]) == 0 {
            Issue.record("\(c.id): window block \(i) is \(table[i]) but position \(c.start) still needs it")
            return Outcome(finished: finished, cancelled: cancelled)
          }
          for p in first..<c.start {
            let slot = Int(table[p / w.blockSize]) * w.blockSize + p % w.blockSize
            if windowKV[slot] != contents(tokens, through: p) {
              Issue.record("\(c.id): window position \(p) holds keys of another prefix")
              return Outcome(finished: finished, cancelled: cancelled)
            }
          }
        } else {
          #expect(c.windowTable == nil)
        }
      }
      // No two sequences write the same slot in one step.
      var written: Set<Int> = []
      var windowWritten: Set<Int> = []
      for c in plan.chunks {
        let tokens = s.tokens(of: c.id)! + c.drafts
        if !c.drafts.isEmpty {
          #expect(c.samples && c.count == c.drafts.count + 1 && c.start + c.count <= config.contextLength)
        }
        for p in c.start..<(c.start + c.count) {
          let slot = Int(c.blockTable[p / w.blockSize]) * w.blockSize + p % w.blockSize
          #expect(written.insert(slot).inserted, "slot \(slot) written twice")
          kv[slot] = contents(tokens, through: p)
          if let table = c.windowTable {
            let windowSlot = Int(table[p / w.blockSize]) * w.blockSize + p % w.blockSize
            #expect(windowWritten.insert(windowSlot).inserted, "window slot \(windowSlot) written twice")
            windowKV[windowSlot] = contents(tokens, through: p)
          }
        }
      }
      s.didCompute(plan)
      for c in plan.chunks where c.samples {
        if !c.drafts.isEmpty {
          var seq = s.tokens(of: c.id)!
          var kept = 0
          for d in c.drafts {
            guard d == truth(seq) else { break }
            seq.append(d)
            kept += 1
          }
          s.acceptDrafts(c.id, count: kept)
          drafted += c.drafts.count
          accepted += kept
        }
        if s.generatedCount(of: c.id) + 1 >= target[c.id]! {
          #expect(done.insert(c.id).inserted, "\(c.id) finished twice")
          s.remove(c.id)
          live.removeAll { $0 == c.id }
          finished += 1
        } else {
          let next = w.speculate ? truth(s.tokens(of: c.id)!) : Int32.random(in: 0..<2, using: &rng)
          s.append(c.id, token: next)
        }
      }
      if let window = w.window {
        // After the step, each sequence holds exactly the window-pool blocks from the window of its
        // next position on: no fewer (still needed), no more (fallen out, so freed).
        for c in plan.chunks where s.contains(c.id) {
          let table = s.windowTable(of: c.id)
          let first = max(0, s.computedCount(of: c.id) - window + 1) / w.blockSize
          for (i, b) in table.enumerated() where (b >= 0) != (i >= first) {
            Issue.record("\(c.id): window block \(i) is \(b) with the window starting at block \(first)")
          }
          let held = table.filter { $0 >= 0 }.count
          #expect(held <= (window + w.blockSize - 1) / w.blockSize + 1, "\(c.id) holds \(held) window blocks")
        }
      }
    }
    #expect(finished + cancelled == w.requests)
    #expect(s.runningCount == 0 && s.waitingCount == 0)
    #expect(s.pool.usedCount == 0, "blocks still held: \(s.pool.usedCount)")
    #expect(s.pool.freeCount == w.blockCount)
    if w.window != nil {
      #expect(s.windowPool?.usedCount == 0, "window blocks still held: \(s.windowPool?.usedCount ?? -1)")
      #expect(s.windowPool?.freeCount == w.windowBlockCount)
    } else {
      #expect(s.windowPool == nil)
    }
    return Outcome(
      finished: finished, cancelled: cancelled, preemptions: s.preemptionsTotal, hits: s.prefixHitTokens,
      drafted: drafted, accepted: accepted)
  }

  @Test(arguments: [1, 2, 3] as [UInt64])
  func randomWorkloadsFinishWithEveryBlockFree(seed: UInt64) throws {
    let o = try simulate(Workload(), seed: seed)
    #expect(o.finished > 0 && o.cancelled > 0)
    #expect(o.preemptions > 0, "the workload should exercise preemption")
    #expect(o.hits > 0, "shared prefixes should hit the cache")
  }

  /// Drafts are computed into the decode's slots; rejected ones must never be read as a prefix,
  /// cached under a hash, or keep blocks, under cancellation, preemption and prefix sharing.
  @Test(arguments: [5, 6, 7] as [UInt64])
  func speculativeDraftsRollBackCleanly(seed: UInt64) throws {
    var w = Workload()
    w.speculate = true
    let o = try simulate(w, seed: seed)
    #expect(o.finished > 0 && o.preemptions > 0 && o.hits > 0)
    #expect(o.drafted > 1000 && o.accepted > 0 && o.accepted < o.drafted, "drafted \(o.drafted), accepted \(o.accepted)")
  }

  @Test func speculativeDraftsUnderBlockPressure() throws {
    var w = Workload()
    w.requests = 500
    w.blockCount = 30
    w.preemptChance = 0
    w.cancelChance = 0
    w.speculate = true
    let o = try simulate(w, seed: 11)
    #expect(o.finished == 500)
    #expect(o.drafted > 0 && o.accepted > 0)
  }

  @Test func draftsUseOnlyBudgetLeftByDecodesAndFreeBlocks() throws {
    var config = SchedulerConfiguration()
    config.maxBatchTokens = 16
    config.blockCount = 100
    config.blockSize = 4
    config.speculativeStepTokens = 16
    var s = Scheduler(config)
    try s.add(id: "a", promptIDs: [1, 2, 3], maxTokens: 50)
    var plan = s.schedule()
    s.didCompute(plan)
    s.append("a", token: 5)
    try s.add(id: "long", promptIDs: Array(repeating: 7, count: 200), maxTokens: 5)
    plan = s.schedule { _, _, maxCount in
      #expect(maxCount == 7)  // half of the 15 tokens the one decode leaves
      return Array(repeating: 9, count: 20)
    }
    #expect(plan.chunks.first?.id == "a" && plan.chunks.first?.drafts.count == 7 && plan.chunks.first?.count == 8)
    #expect(plan.tokenCount == 16)
    s.didCompute(plan)
    s.acceptDrafts("a", count: 2)
    #expect(s.tokens(of: "a") == [1, 2, 3, 5, 9, 9])
    s.append("a", token: 4)
    plan = s.schedule()
    // The decode resumes right after the accepted drafts: position 6 holds the new token.
    #expect(plan.chunks.first?.start == 6 && plan.chunks.first?.count == 1)
  }

  @Test func draftsStopWhereAStepStopsBeingCheap() throws {
    var config = SchedulerConfiguration()
    config.maxBatchTokens = 64
    config.blockSize = 4
    config.speculativeStepTokens = 8
    var s = Scheduler(config)
    for id in ["a", "b", "c"] { try s.add(id: id, promptIDs: [1, 2, 3], maxTokens: 50) }
    var plan = s.schedule()
    s.didCompute(plan)
    for id in ["a", "b", "c"] { s.append(id, token: 5) }
    // Three decodes leave room for five drafts below 8 tokens: the first decode takes what it asks.
    var asked: [Int] = []
    plan = s.schedule { _, _, maxCount in
      asked.append(maxCount)
      return Array(repeating: 9, count: min(maxCount, 4))
    }
    #expect(asked == [5, 1])
    #expect(plan.chunks.map(\.drafts.count) == [4, 1, 0] && plan.tokenCount == 8)
    // A step that already holds a running prompt's chunk gets no drafts at all.
    s.didCompute(plan)
    for c in plan.chunks { s.acceptDrafts(c.id, count: 0) }
    for id in ["a", "b", "c"] { s.append(id, token: 6) }
    try s.add(id: "long", promptIDs: Array(repeating: 7, count: 100), maxTokens: 5)
    plan = s.schedule { _, _, _ in [] }  // admits "long": its prompt spreads over this step and the next
    s.didCompute(plan)
    for id in ["a", "b", "c"] { s.append(id, token: 8) }
    plan = s.schedule { _, _, _ in
      Issue.record("no drafts beside a prompt chunk")
      return []
    }
    #expect(plan.chunks.contains { $0.id == "long" })
  }

  @Test func tinyPoolForcesPreemptionByBlockPressure() throws {
    var w = Workload()
    w.requests = 500
    w.blockCount = 30  // exactly one longest request (120 tokens / 4)
    w.preemptChance = 0
    w.cancelChance = 0
    let o = try simulate(w, seed: 9)
    #expect(o.finished == 500)
    #expect(o.preemptions > 0)
  }

  @Test func withoutPrefixCachingNothingIsShared() throws {
    var w = Workload()
    w.requests = 300
    w.prefixCaching = false
    let o = try simulate(w, seed: 4)
    #expect(o.hits == 0)
  }

  @Test func runningDecodesAreNeverStarvedByALongPrefill() throws {
    var config = SchedulerConfiguration()
    config.maxBatchTokens = 16
    config.blockCount = 100
    config.blockSize = 4
    var s = Scheduler(config)
    try s.add(id: "a", promptIDs: [1, 2, 3], maxTokens: 50)
    var plan = s.schedule()
    s.didCompute(plan)
    s.append("a", token: 5)
    try s.add(id: "long", promptIDs: Array(repeating: 7, count: 200), maxTokens: 5)
    for _ in 0..<5 {
      plan = s.schedule()
      #expect(plan.chunks.first?.id == "a" && plan.chunks.first?.count == 1)
      #expect(plan.tokenCount == 16)
      s.didCompute(plan)
      s.append("a", token: 5)
    }
  }

  @Test func clearingThePrefixCacheStopsReuseButKeepsRunningBlocks() throws {
    var config = SchedulerConfiguration()
    config.maxBatchTokens = 64
    config.blockCount = 40
    config.blockSize = 4
    var s = Scheduler(config)
    let prompt = Array(Int32(1)...Int32(21))
    func prefill(_ id: String) throws -> Int {
      try s.add(id: id, promptIDs: prompt, maxTokens: 4)
      let before = s.prefixHitTokens
      s.didCompute(s.schedule())
      return s.prefixHitTokens - before
    }
    #expect(try prefill("a") == 0)
    #expect(s.runningTokens == 21 && s.waitingTokens == 0)
    s.remove("a")
    #expect(try prefill("b") == 20, "five full blocks reused")
    s.clearPrefixCache()
    #expect(try prefill("c") == 0, "nothing computed before the flush is reused")
    // "b" still holds its blocks and decodes on; blocks filled after the flush are cached again.
    #expect(s.runningTokens == 42)
    s.remove("b")
    s.remove("c")
    #expect(try prefill("d") == 20)
    s.remove("d")
    #expect(s.pool.usedCount == 0)
  }

  @Test func refusesWhatCanNeverRun() {
    var config = SchedulerConfiguration()
    config.blockCount = 4
    config.blockSize = 4
    config.contextLength = 100
    config.maxWaiting = 1
    var s = Scheduler(config)
    #expect(throws: EngineError.exceedsCacheCapacity(neededTokens: 20, capacityTokens: 16)) {
      try s.add(id: "x", promptIDs: Array(repeating: 1, count: 10), maxTokens: 10)
    }
    #expect(throws: EngineError.promptTooLong(promptTokens: 90, maxTokens: 20, contextLength: 100)) {
      try s.add(id: "y", promptIDs: Array(repeating: 1, count: 90), maxTokens: 20)
    }
    #expect(throws: Never.self) { try s.add(id: "z", promptIDs: [1], maxTokens: 1) }
    #expect(throws: EngineError.queueFull(waiting: 1, retryAfterSeconds: 1)) {
      try s.add(id: "w", promptIDs: [1], maxTokens: 1)
    }
  }
}

@Suite("Scheduler limits")
struct SchedulerLimitTests {
  @Test func absurdMaxTokensIsRefusedNotATrap() {
    var s = Scheduler(SchedulerConfiguration())
    #expect(throws: EngineError.self) { try s.add(id: "x", promptIDs: [1, 2], maxTokens: Int.max) }
    #expect(EngineError.promptTooLong(promptTokens: 2, maxTokens: Int.max, contextLength: 10).description.contains("more than"))
  }
}
