import Models
/// Decides what every engine step computes, knowing only token counts and block ids (no model, so it
/// is tested with thousands of fake requests). Each request's computed tokens catch up with its known
/// tokens: a prompt is spread over steps in chunks, running decodes go first so that a long new prompt
/// never freezes them, prefix blocks come from the cache, and when blocks run out the newest,
/// lowest-priority request is preempted and later recomputed.
///
/// With `configuration.window`, the model's sliding-window layers keep a pool of their own
/// (`windowPool`): a sequence holds a window-pool block for each of its blocks until the block lies
/// wholly before the window of its next position, then gives it back. Both pools grow together, are
/// freed together, and a prefix is reused only as far as both still hold it.
public struct Scheduler: Sendable {
  public let configuration: SchedulerConfiguration
  public private(set) var pool: BlockPool
  /// Blocks of the sliding-window layers; nil without `configuration.window`.
  public private(set) var windowPool: BlockPool?
  private var records: [String: SequenceRecord] = [:]
  private var waiting: [String] = []  // kept sorted by precedence
  private var running: [String] = []  // kept sorted by precedence
  private var arrivals = 0
  public private(set) var prefixQueryTokens = 0
  public private(set) var prefixHitTokens = 0
  public private(set) var preemptionsTotal = 0

  public init(_ configuration: SchedulerConfiguration) {
    self.configuration = configuration
    pool = BlockPool(blockCount: configuration.blockCount, blockSize: configuration.blockSize)
    if configuration.window != nil {
      windowPool = BlockPool(blockCount: max(1, configuration.windowBlockCount), blockSize: configuration.blockSize)
    }
  }

  public var waitingCount: Int { waiting.count }
  /// Waiting requests, first to be scheduled first.
  public var waitingIDs: [String] { waiting }
  public var runningCount: Int { running.count }
  /// Known tokens (prompt and generated) of the running requests and of the waiting ones.
  public var runningTokens: Int { running.reduce(0) { $0 + records[$1]!.tokens.count } }
  public var waitingTokens: Int { waiting.reduce(0) { $0 + records[$1]!.tokens.count } }
  public var hasWork: Bool { !waiting.isEmpty || !running.isEmpty }
  public func contains(_ id: String) -> Bool { records[id] != nil }

  /// Queues a request. Refuses what can never run (longer than the context or the whole cache) and
  /// what does not fit in the queue.
  public mutating func add(
    id: String, promptIDs: [Int32], maxTokens: Int, priority: Int = 0, salt: String? = nil
  ) throws(EngineError) {
    guard records[id] == nil else { throw .duplicateRequestID(id) }
    guard !promptIDs.isEmpty else { throw .invalidParameters("the prompt is empty") }
    let (length, overflow) = promptIDs.count.addingReportingOverflow(max(0, maxTokens))
    guard !overflow, length <= configuration.contextLength else {
      throw .promptTooLong(
        promptTokens: promptIDs.count, maxTokens: maxTokens, contextLength: configuration.contextLength)
    }
    let capacity = configuration.blockCount * configuration.blockSize
    guard length <= capacity else { throw .exceedsCacheCapacity(neededTokens: length, capacityTokens: capacity) }
    if let windowPool {
      // A request must be able to run alone: its window and one step's chunk in the window pool.
      let bs = configuration.blockSize
      let need = min((length + bs - 1) / bs, configuration.windowBlocksPerSequence)
      guard need <= windowPool.blockCount else {
        throw .exceedsCacheCapacity(neededTokens: need * bs, capacityTokens: windowPool.blockCount * bs)
      }
    }
    guard waiting.count < configuration.maxWaiting else {
      throw .queueFull(waiting: waiting.count, retryAfterSeconds: 1)
    }
    arrivals += 1
    let record = SequenceRecord(
      id: id, tokens: promptIDs, promptCount: promptIDs.count, maxLength: length, priority: priority,
      arrival: arrivals, salt: salt,
      halfAttentionFrom: configuration.kvCacheType == .q8_0
        ? Int.max : BatchSlice.halfAttentionStart(promptLength: promptIDs.count, numerics: configuration.numerics),
      orderPromptLength: configuration.ordersByPromptLength
        ? BatchSlice.orderPromptLength(promptLength: promptIDs.count, numerics: configuration.numerics) : 0,
      orderCheckpointCuts: configuration.orderCheckpointCuts)
    records[id] = record
    insert(id, into: &waiting)
  }

  /// Chooses the next step's work within the token budget.
  ///
  /// `draft` is asked, for each running decode, for up to `maxCount` tokens likely to follow its
  /// known `tokens` (speculative decoding). They are computed in the decode's own slice, after its
  /// last token, and the caller reports how many proved right with `acceptDrafts`. Drafts come
  /// last: only budget left after every running request's own tokens (and at most half of what
  /// the decodes leave, so new prompts keep moving), only while the step holds fewer than
  /// `speculativeStepTokens` tokens (past a few rows a CPU step costs nearly in proportion, so
  /// drafts would slow a busy batch down), and only free blocks (a guess never preempts anyone).
  public mutating func schedule(
    draft: (_ id: String, _ tokens: [Int32], _ maxCount: Int) -> [Int32] = { _, _, _ in [] }
  ) -> SchedulerOutput {
    var out = SchedulerOutput()
    var budget = configuration.maxBatchTokens
    var scheduled: Set<String> = []
    // Background requests (batch lines) pause while any foreground request runs or waits, and get
    // a small budget otherwise, so they never delay interactive work by more than one short step.
    let foreground =
      running.contains { !records[$0]!.isBackground } || waiting.contains { !records[$0]!.isBackground }
    var backgroundBudget = foreground ? 0 : min(configuration.backgroundStepTokens, budget)

    // Running requests: decodes (one token) before unfinished prefills.
    let decodes = running.filter { records[$0]!.remaining == 1 }
    let order = decodes + running.filter { records[$0]!.remaining > 1 }
    for id in order where budget > 0 {
      guard running.contains(id), let r = records[id], r.remaining > 0 else { continue }
      if r.isBackground && backgroundBudget <= 0 { continue }
      let count = min(r.remaining, budget, r.isBackground ? backgroundBudget : .max)
      if r.isBackground { backgroundBudget -= count }
      if !reserve(id, count: count, scheduled: &scheduled, out: &out) { continue }
      budget -= count
      scheduled.insert(id)
      out.chunks.append(chunk(id, count: count))
    }

    // Draft tokens for the decodes just scheduled.
    let stepTokens = configuration.maxBatchTokens - budget
    var draftBudget = min(
      budget, max(0, configuration.maxBatchTokens - decodes.count) / 2,
      max(0, configuration.speculativeStepTokens - stepTokens))
    for i in out.chunks.indices where draftBudget > 0 {
      let c = out.chunks[i]
      guard c.count == 1, c.samples else { continue }
      let drafts = proposeDrafts(c.id, limit: draftBudget, draft)
      guard !drafts.isEmpty else { continue }
      draftBudget -= drafts.count
      budget -= drafts.count
      out.chunks[i].count += drafts.count
      out.chunks[i].drafts = drafts
      out.chunks[i].blockTable = records[c.id]!.blockTable
      if windowPool != nil { out.chunks[i].windowTable = records[c.id]!.windowTable }
    }

    // Waiting requests, in precedence order, while the budget, the batch and the blocks allow.
    while budget > 0, running.count < configuration.maxRunning || hasPausedBackground(scheduled), let id = waiting.first {
      var r = records[id]!
      if r.isBackground && backgroundBudget <= 0 { break }
      if r.computed == 0 && r.blockTable.isEmpty { attachCachedPrefix(&r) }
      records[id] = r
      let count = min(r.remaining, budget, r.isBackground ? backgroundBudget : .max)
      // Never preempt foreground work for a newcomer, but a foreground newcomer takes the blocks
      // (and the running slot) of paused background requests, which are recomputed later.
      while !r.isBackground, !canReserve(records[id]!, count: count) || running.count >= configuration.maxRunning,
        let victim = running.last(where: { records[$0]!.isBackground && !scheduled.contains($0) })
      {
        preemptRunning(victim)
        out.preempted.append(victim)
      }
      r = records[id]!
      if !canReserve(r, count: count) || running.count >= configuration.maxRunning {
        // It waits for blocks to free.
        releaseBlocks(of: id)
        break
      }
      if r.isBackground { backgroundBudget -= count }
      waiting.removeFirst()
      insert(id, into: &running)
      _ = reserve(id, count: count, scheduled: &scheduled, out: &out)
      budget -= count
      scheduled.insert(id)
      if !records[id]!.everScheduled {
        records[id]!.everScheduled = true
        out.started.append(id)
        let r = records[id]!
        let hit = configuration.prefixCaching ? min(r.computed, r.promptCount) : 0
        prefixQueryTokens += configuration.prefixCaching ? r.promptCount : 0
        prefixHitTokens += hit
        records[id]!.cachedPromptTokens = hit
      }
      out.chunks.append(chunk(id, count: count))
    }
    return out
  }

  /// Records that a step computed its chunks: caches newly full blocks under their hashes. Draft
  /// tokens are not counted as computed until `acceptDrafts` says they were right.
  public mutating func didCompute(_ output: SchedulerOutput) {
    for c in output.chunks {
      guard records[c.id] != nil else { continue }
      records[c.id]!.computed = c.start + c.count - c.drafts.count
      registerFullBlocks(c.id)
      releaseBehindWindow(c.id)
    }
  }

  /// After a step that computed drafts for `id`: the first `count` of them matched what the model
  /// would have chosen, so they join the known and computed tokens. The KV slots of the rest are
  /// simply overwritten later; blocks beyond the next position go back to the pool. Call it for
  /// every chunk with drafts (with 0 when none were accepted), then `append` the token that follows.
  public mutating func acceptDrafts(_ id: String, count: Int) {
    guard var r = records[id] else { return }
    let k = max(0, min(count, r.drafts.count))
    r.tokens += r.drafts[..<k]
    r.computed += k
    r.drafts = []
    // The next step computes the token that follows at position `computed`.
    let keep = (r.computed + configuration.blockSize) / configuration.blockSize
    if r.blockTable.count > keep {
      pool.release(r.blockTable[keep...].reversed())
      r.blockTable.removeLast(r.blockTable.count - keep)
      if windowPool != nil {
        windowPool!.release(r.windowTable[keep...].reversed().filter { $0 >= 0 })
        r.windowTable.removeLast(r.windowTable.count - keep)
      }
    }
    records[id] = r
    registerFullBlocks(id)
    releaseBehindWindow(id)
  }

  /// Appends a sampled token to a running request.
  public mutating func append(_ id: String, token: Int32) {
    records[id]?.tokens.append(token)
  }

  /// Removes a request (finished or cancelled) and frees its blocks at once.
  public mutating func remove(_ id: String) {
    guard records[id] != nil else { return }
    releaseBlocks(of: id)
    records[id] = nil
    running.removeAll { $0 == id }
    waiting.removeAll { $0 == id }
  }

  /// Forgets every cached prefix (`POST /flush_cache`): no later request reuses a block computed
  /// before. Blocks held by requests stay theirs; blocks they fill from now on are cached as usual.
  public mutating func clearPrefixCache() {
    pool.clearCache()
    windowPool?.clearCache()
  }

  /// Known tokens of a request (prompt and generated).
  public func tokens(of id: String) -> [Int32]? { records[id]?.tokens }
  public func cachedPromptTokens(of id: String) -> Int { records[id]?.cachedPromptTokens ?? 0 }
  public func preemptions(of id: String) -> Int { records[id]?.preemptions ?? 0 }
  /// Where the request's half-accumulator attention starts (`BatchSlice.halfAttentionFrom`).
  public func halfAttentionFrom(of id: String) -> Int {
    records[id]?.halfAttentionFrom ?? 0
  }
  /// The prompt length that fixes the request's batched matrix-product order (`BatchSlice.promptLength`;
  /// 0 under `Numerics.fast`, whose order is the same for every position).
  public func promptLength(of id: String) -> Int { records[id]?.orderPromptLength ?? 0 }
  /// The request's window-pool blocks (-1 where released); empty without a window pool.
  public func windowTable(of id: String) -> [Int32] { records[id]?.windowTable ?? [] }
  /// Tokens of the request in the KV cache.
  public func computedCount(of id: String) -> Int { records[id]?.computed ?? 0 }
  public func generatedCount(of id: String) -> Int { records[id].map { $0.tokens.count - $0.promptCount } ?? 0 }

  /// Sends a running request back to the queue, as if blocks had run out (for tests and tooling).
  public mutating func preempt(_ id: String) {
    guard running.contains(id) else { return }
    preemptRunning(id)
  }

  // MARK: - Blocks

  private func blocksNeeded(_ r: SequenceRecord, through end: Int) -> Int {
    let bs = configuration.blockSize
    return max(0, (end + bs - 1) / bs - r.blockTable.count)
  }

  /// Caches the request's newly full blocks (all of whose tokens are computed) under their hashes.
  private mutating func registerFullBlocks(_ id: String) {
    guard configuration.prefixCaching, var r = records[id] else { return }
    let bs = configuration.blockSize
    while r.blockHashes.count < r.computed / bs {
      let i = r.blockHashes.count
      let tokens = r.tokens[(i * bs)..<((i + 1) * bs)]
      let h = BlockHash(parent: r.blockHashes.last, tokens: tokens, salt: r.salt, variant: r.variant(ofBlock: i, bs))
      pool.register(r.blockTable[i], hash: h, tokens: tokens)
      if windowPool != nil, r.windowTable[i] >= 0 { windowPool!.register(r.windowTable[i], hash: h, tokens: tokens) }
      r.blockHashes.append(h)
    }
    records[id] = r
  }

  /// Gives back the window-pool blocks lying wholly before the window of the next position
  /// (`computed`): no later position attends to them. Call after `registerFullBlocks`, so a block
  /// that filled and left the window in one step is still cached.
  private mutating func releaseBehindWindow(_ id: String) {
    guard let window = configuration.window, windowPool != nil, var r = records[id] else { return }
    let end = min(max(0, r.computed - window + 1) / configuration.blockSize, r.windowTable.count)
    guard r.windowReleased < end else { return }
    for i in r.windowReleased..<end where r.windowTable[i] >= 0 {
      windowPool!.release(CollectionOfOne(r.windowTable[i]))
      r.windowTable[i] = -1
    }
    r.windowReleased = end
    records[id] = r
  }

  /// Free blocks a sequence can grow into: the smaller of both pools' free counts.
  private var freeBlocks: Int { min(pool.freeCount, windowPool?.freeCount ?? Int.max) }

  /// Takes one block from each pool for the sequence's next block.
  private mutating func appendBlock(_ id: String) {
    records[id]!.blockTable.append(pool.allocate()!)
    if windowPool != nil { records[id]!.windowTable.append(windowPool!.allocate()!) }
  }

  /// Asks `draft` for tokens after `id`'s known ones and gives them KV slots from free blocks.
  private mutating func proposeDrafts(
    _ id: String, limit: Int, _ draft: (String, [Int32], Int) -> [Int32]
  ) -> [Int32] {
    let r = records[id]!
    // Never past the request's own length (prompt + max tokens): nothing there can be kept.
    let room = r.maxLength - r.tokens.count
    let slots = (r.blockTable.count + freeBlocks) * configuration.blockSize - r.tokens.count
    let maxCount = min(limit, room, slots)
    guard maxCount > 0 else { return [] }
    var drafts = draft(id, r.tokens, maxCount)
    if drafts.count > maxCount { drafts.removeLast(drafts.count - maxCount) }
    guard !drafts.isEmpty else { return [] }
    for _ in 0..<blocksNeeded(r, through: r.tokens.count + drafts.count) { appendBlock(id) }
    records[id]!.drafts = drafts
    return drafts
  }

  /// Whether a running background request is idle this step (its slot can go to a foreground one).
  private func hasPausedBackground(_ scheduled: Set<String>) -> Bool {
    running.contains { records[$0]!.isBackground && !scheduled.contains($0) }
  }

  private func canReserve(_ r: SequenceRecord, count: Int) -> Bool {
    blocksNeeded(r, through: r.computed + count) <= freeBlocks
  }

  /// Gives `id` blocks for `count` more tokens, preempting the lowest-precedence running requests
  /// (never one already scheduled in this step) until it fits; false if `id` itself was preempted.
  private mutating func reserve(
    _ id: String, count: Int, scheduled: inout Set<String>, out: inout SchedulerOutput
  ) -> Bool {
    while true {
      let r = records[id]!
      let need = blocksNeeded(r, through: r.computed + count)
      if need <= freeBlocks {
        for _ in 0..<need { appendBlock(id) }
        return true
      }
      guard let victim = running.last(where: { !scheduled.contains($0) }) else { return false }
      preemptRunning(victim)
      out.preempted.append(victim)
      if victim == id { return false }
    }
  }

  private mutating func preemptRunning(_ id: String) {
    releaseBlocks(of: id)
    records[id]!.computed = 0
    records[id]!.blockHashes = []
    records[id]!.drafts = []
    records[id]!.preemptions += 1
    preemptionsTotal += 1
    running.removeAll { $0 == id }
    insert(id, into: &waiting)
  }

  private mutating func releaseBlocks(of id: String) {
    guard let r = records[id] else { return }
    pool.release(r.blockTable.reversed())
    if windowPool != nil { windowPool!.release(r.windowTable.reversed().filter { $0 >= 0 }) }
    records[id]!.blockTable = []
    records[id]!.windowTable = []
    records[id]!.windowReleased = 0
    records[id]!.blockHashes = []
    records[id]!.computed = 0
  }

  /// Takes every cached full block of the request's known tokens, leaving at least one token to
  /// compute (its logits pick the next token). With a window pool, k blocks are reused only when
  /// the window pool also holds the blocks covering the window before position k × blockSize (the
  /// first position left to compute); k shrinks until both pools hold what it needs.
  private mutating func attachCachedPrefix(_ r: inout SequenceRecord) {
    guard configuration.prefixCaching else { return }
    let bs = configuration.blockSize
    let full = (r.tokens.count - 1) / bs
    var parent: BlockHash? = nil
    var hashes: [BlockHash] = []
    // runs[i]: how many blocks up to and including i the window pool holds without a gap.
    var runs: [Int] = []
    for i in 0..<full {
      let tokens = r.tokens[(i * bs)..<((i + 1) * bs)]
      let h = BlockHash(parent: parent, tokens: tokens, salt: r.salt, variant: r.variant(ofBlock: i, bs))
      guard pool.isCached(h, tokens: tokens) else { break }
      hashes.append(h)
      if let windowPool { runs.append(windowPool.isCached(h, tokens: tokens) ? (runs.last ?? 0) + 1 : 0) }
      parent = h
    }
    var k = hashes.count
    var windowFrom = 0  // first block the window pool must supply
    if let window = configuration.window, windowPool != nil {
      while k > 0 {
        windowFrom = max(0, k * bs - window + 1) / bs
        if runs[k - 1] >= k - windowFrom { break }
        k -= 1
      }
      if k == 0 { windowFrom = 0 }
    }
    for i in 0..<k {
      let tokens = r.tokens[(i * bs)..<((i + 1) * bs)]
      r.blockTable.append(pool.takeCached(hashes[i], tokens: tokens)!)
      if windowPool != nil {
        r.windowTable.append(i >= windowFrom ? windowPool!.takeCached(hashes[i], tokens: tokens)! : -1)
      }
      r.blockHashes.append(hashes[i])
    }
    r.windowReleased = windowPool != nil ? windowFrom : 0
    r.computed = k * bs
  }

  private func chunk(_ id: String, count: Int) -> ScheduledChunk {
    let r = records[id]!
    return ScheduledChunk(
      id: id, start: r.computed, count: count, blockTable: r.blockTable,
      windowTable: windowPool != nil ? r.windowTable : nil, samples: r.computed + count == r.tokens.count)
  }

  private func insert(_ id: String, into list: inout [String]) {
    let r = records[id]!
    let at = list.firstIndex { records[$0]!.precedes(r) == false && r.precedes(records[$0]!) } ?? list.count
    list.insert(id, at: at)
  }
}
