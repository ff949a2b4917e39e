import Foundation
import Logging
import Models
import Tokenizers

/// The serving engine: many requests share one copy of the weights and one paged KV cache; every step
/// is one batched pass over the weights for all running sequences (decodes plus prefill chunks), as
/// the scheduler plans it. Callers submit requests and read an `AsyncStream` of events; ending that
/// stream (a client that went away) cancels the request and frees its blocks at once.
public final class InferenceEngine: @unchecked Sendable {
  public let model: any LanguageModel
  /// Drafts for requests that speculate with `.draftModel`.
  public let draftModel: (any LanguageModel)?
  public let tokenizer: Tokenizer
  public let configuration: EngineConfiguration
  public var modelInfo: ModelInfo { model.info }
  let logger: Logger
  let cache: PagedKVCache
  let schedulerConfiguration: SchedulerConfiguration

  private let lock = NSCondition()
  // Guarded by `lock`:
  private var inbox: [(request: EngineRequest, continuation: AsyncStream<EngineEvent>.Continuation, group: Int)] = []
  private var cancellations: [String] = []
  private var live: Set<String> = []
  /// Admission counts (see `submit(_:)`): as of the last published step, plus every group
  /// submitted since.
  private var admission: AdmissionCounts
  /// Sizes of the groups in the inbox, in order (re-added to each published count).
  private var inboxGroupSizes: [Int] = []
  private var nextGroup = 0
  private var accepting = true
  private var abortAll = false
  private var flushRequested = false
  private var stopped = false
  private var snapshot = EngineStatistics()
  private var thread: Thread?

  // Owned by the step thread:
  private var scheduler: Scheduler
  /// The submission group (one HTTP request's choices) of every request in the scheduler.
  private var groupOf: [String: Int] = [:]
  private var outputs: [String: RequestOutput] = [:]
  private let scratch = ScratchArena()
  private var stats = EngineStatistics()

  /// `draftModel`, when given, drafts for requests that speculate with `.draftModel`; it must share
  /// the target's vocabulary. Its per-request KV states live outside the KV budget (one per request
  /// that has drafted, sized to that request, freed when it finishes).
  public init(
    model: any LanguageModel, tokenizer: Tokenizer, configuration: EngineConfiguration = .init(),
    draftModel: (any LanguageModel)? = nil, logger: Logger = Logger(label: "peregrine.engine")
  ) throws(EngineError) {
    guard configuration.blockSize > 0, configuration.maxBatchTokens > 0, configuration.maxRunning > 0,
      configuration.maxWaiting >= 0
    else { throw .invalidParameters("engine limits must be positive") }
    if let draftModel, draftModel.info.vocabularySize != model.info.vocabularySize {
      throw .invalidParameters(
        "the draft model's vocabulary (\(draftModel.info.vocabularySize) tokens) differs from the target's (\(model.info.vocabularySize))")
    }
    if configuration.speculation.method == .draftModel && draftModel == nil {
      throw .invalidParameters("speculation by draft model needs a draft model")
    }
    if let reason = configuration.kvCacheType.unsupportedReason(headDim: model.kvLayout.headDim) {
      throw .invalidParameters(reason)
    }
    self.draftModel = draftModel
    self.model = model
    self.tokenizer = tokenizer
    self.configuration = configuration
    self.logger = logger
    let layout = model.kvLayout
    var s = SchedulerConfiguration()
    s.blockSize = configuration.blockSize
    s.maxBatchTokens = configuration.maxBatchTokens
    s.maxRunning = configuration.maxRunning
    let kvType = configuration.kvCacheType
    let split = try Self.splitKVBudget(
      configuration.resolvedKVCacheBytes(), layout: layout, contextLength: model.info.contextLength, scheduler: s,
      type: kvType)
    let blocks = split.blocks
    cache = PagedKVCache(
      layout: layout, blockSize: configuration.blockSize, blockCount: blocks, windowBlockCount: split.windowBlocks,
      type: kvType)
    s.blockCount = blocks
    if split.windowBlocks > 0 {
      s.window = layout.window
      s.windowBlockCount = split.windowBlocks
    }
    // The engine admits by groups and free slots (`submit`); the scheduler takes whatever it admitted.
    s.maxWaiting = .max
    s.prefixCaching = configuration.prefixCaching
    s.contextLength = model.info.contextLength
    s.speculativeStepTokens = configuration.speculation.maxStepTokens
    s.numerics = model.numerics
    s.ordersByPromptLength = model.ordersByPromptLength
    s.orderCheckpointCuts = model.referenceCheckpointCuts
    s.kvCacheType = kvType
    schedulerConfiguration = s
    scheduler = Scheduler(s)
    admission = AdmissionCounts(freeSlots: configuration.maxRunning)
    stats.kvBlocksTotal = blocks
    stats.kvWindowBlocksTotal = split.windowBlocks
    stats.kvCacheType = kvType.rawValue
    snapshot = stats
    if split.windowBlocks > 0 {
      logger.info(
        "KV cache: \(blocks) blocks × \(configuration.blockSize) tokens = \(blocks * configuration.blockSize) tokens for \(cache.fullLayers) full-history layers + \(split.windowBlocks) blocks for \(cache.windowLayers) sliding-window layers (window \(layout.window ?? 0)), \(kvType.rawValue), \(cache.byteCount >> 20) MiB")
    } else {
      logger.info(
        "KV cache: \(blocks) blocks × \(configuration.blockSize) tokens = \(blocks * configuration.blockSize) tokens, \(kvType.rawValue), \(cache.byteCount >> 20) MiB")
    }
    let t = Thread { [weak self] in self?.run() }
    t.name = "peregrine-engine"
    t.stackSize = 8 << 20
    thread = t
    t.start()
  }

  deinit {
    lock.lock()
    stopped = true
    lock.broadcast()
    lock.unlock()
  }

  /// Divides a KV budget of `bytes` between the full-history pool and, for a model with
  /// sliding-window layers, their own window pool (`docs/engine.md`, "Paged KV cache"). The window
  /// pool gets enough blocks for `maxRunning` sequences' windows (each ⌈(window−1)/blockSize⌉ + 2
  /// blocks) plus one step's chunks, but at most half the budget; the full-history pool gets the
  /// rest. When half the budget cannot hold one sequence's window and chunk, or the window reaches
  /// the context length, every layer shares one pool as before. Never more than `bytes` in total.
  /// Block sizes in bytes are those of `type`'s storage.
  public static func splitKVBudget(
    _ bytes: Int, layout: KVLayout, contextLength: Int, scheduler s: SchedulerConfiguration,
    type: KVCacheType = .f16
  ) throws(EngineError) -> (blocks: Int, windowBlocks: Int) {
    let bs = s.blockSize
    let windowed = layout.windowedCount
    if let window = layout.window, windowed > 0, windowed < layout.layers, window < contextLength {
      let fullBytes = PagedKVCache.bytesPerBlock(
        layers: layout.layers - windowed, kvDim: layout.kvDim, blockSize: bs, type: type)
      let windowBytes = PagedKVCache.bytesPerBlock(layers: windowed, kvDim: layout.kvDim, blockSize: bs, type: type)
      var w = s
      w.window = window
      let wanted =
        s.maxRunning * ((window - 1 + bs - 1) / bs + 2) + (s.maxBatchTokens + bs - 1) / bs + s.maxRunning
      let windowBlocks = min(wanted, bytes / 2 / windowBytes)
      let blocks = (bytes - windowBlocks * windowBytes) / fullBytes
      if windowBlocks >= w.windowBlocksPerSequence && blocks >= 1 { return (blocks, windowBlocks) }
    }
    let perBlock = PagedKVCache.bytesPerBlock(layers: layout.layers, kvDim: layout.kvDim, blockSize: bs, type: type)
    let blocks = bytes / perBlock
    guard blocks >= 1 else {
      throw .invalidParameters("KV cache memory \(bytes) B is less than one block (\(perBlock) B)")
    }
    return (blocks, 0)
  }

  /// Tokens the KV cache holds in total.
  public var cacheCapacityTokens: Int { schedulerConfiguration.blockCount * schedulerConfiguration.blockSize }

  /// Queues a request. Events follow on the returned stream: tokens, then exactly one `finished`.
  public func submit(_ request: EngineRequest) throws(EngineError) -> AsyncStream<EngineEvent> {
    try submit([request])[0]
  }

  /// Queues requests as one group (the `n` choices of one API call): all are admitted or none, and
  /// the group counts once against `maxWaiting`. A group is refused with `queueFull` only when it
  /// could not start at once (every running slot is taken by running or earlier waiting requests)
  /// and `maxWaiting` groups are already waiting: a burst never meets 429 while a slot is free.
  public func submit(_ requests: [EngineRequest]) throws(EngineError) -> [AsyncStream<EngineEvent>] {
    for r in requests { try validate(r) }
    guard Set(requests.map(\.id)).count == requests.count else {
      throw .duplicateRequestID(requests.map(\.id).first { id in requests.filter { $0.id == id }.count > 1 } ?? "")
    }
    lock.lock()
    defer { lock.unlock() }
    guard accepting else { throw .shuttingDown }
    if let taken = requests.first(where: { live.contains($0.id) }) { throw .duplicateRequestID(taken.id) }
    guard admission.admits(maxWaiting: configuration.maxWaiting) else {
      throw .queueFull(waiting: admission.queuedGroups, retryAfterSeconds: 1)
    }
    admission.add(groupOf: requests.count)
    nextGroup += 1
    inboxGroupSizes.append(requests.count)
    var streams: [AsyncStream<EngineEvent>] = []
    for request in requests {
      let (stream, continuation) = AsyncStream<EngineEvent>.makeStream()
      live.insert(request.id)
      inbox.append((request, continuation, nextGroup))
      let id = request.id
      continuation.onTermination = { [weak self] reason in
        if case .cancelled = reason { self?.cancel(id) }
      }
      streams.append(stream)
    }
    lock.signal()
    return streams
  }

  /// Stops a request wherever it is; its blocks are freed before the next step.
  public func cancel(_ id: String) {
    lock.lock()
    if live.contains(id) {
      cancellations.append(id)
      lock.signal()
    }
    lock.unlock()
  }

  /// A consistent snapshot, updated after every step.
  public func statistics() -> EngineStatistics {
    lock.lock()
    defer { lock.unlock() }
    var s = snapshot
    s.waiting += inbox.count
    s.waitingTokens += inbox.reduce(0) { $0 + $1.request.promptIDs.count }
    return s
  }

  /// Forgets every cached prefix before the next step (requests already running keep their blocks).
  public func flushPrefixCache() {
    withLock {
      flushRequested = true
      lock.signal()
    }
  }

  /// Stops accepting requests, lets running ones finish until the grace period ends, then aborts the
  /// rest and stops the step thread.
  public func shutdown(gracePeriod: Duration) async {
    withLock { accepting = false }
    let deadline = ContinuousClock.now + gracePeriod
    while ContinuousClock.now < deadline, withLock({ !live.isEmpty }) {
      try? await Task.sleep(for: .milliseconds(20))
    }
    withLock {
      abortAll = true
      lock.signal()
    }
    while !withLock({ live.isEmpty }) { try? await Task.sleep(for: .milliseconds(5)) }
    withLock {
      stopped = true
      lock.broadcast()
    }
  }

  private func withLock<T>(_ body: () -> T) -> T {
    lock.lock()
    defer { lock.unlock() }
    return body()
  }

  private func validate(_ r: EngineRequest) throws(EngineError) {
    if let why = r.sampling.validationError { throw .invalidParameters(why) }
    guard !r.promptIDs.isEmpty else { throw .invalidParameters("the prompt is empty") }
    guard r.maxTokens >= 1 else { throw .invalidParameters("max_tokens must be at least 1, got \(r.maxTokens)") }
    let vocab = model.info.vocabularySize
    for id in r.promptIDs where id < 0 || Int(id) >= vocab {
      throw .invalidParameters("prompt token id \(id) is outside the vocabulary (0..<\(vocab))")
    }
    for (id, bias) in r.logitBias {
      guard id >= 0, Int(id) < vocab else { throw .invalidParameters("logit_bias token id \(id) is outside the vocabulary") }
      guard bias.isFinite, abs(bias) <= 100 else { throw .invalidParameters("logit_bias values must be in [-100, 100]") }
    }
    if let k = r.draftTokens, !(1...EngineSpeculation.maxDraftTokens).contains(k) {
      throw .invalidParameters("draft tokens must be between 1 and \(EngineSpeculation.maxDraftTokens), got \(k)")
    }
    if r.speculative == .draftModel && draftModel == nil {
      throw .invalidParameters("speculation by draft model needs a server started with a draft model")
    }
    if let n = r.topLogprobs, !(0...20).contains(n) {
      throw .invalidParameters("top_logprobs must be in 0...20, got \(n)")
    }
    let context = model.info.contextLength
    // Checked before adding so an absurd max_tokens cannot overflow.
    guard r.maxTokens <= context else {
      throw .promptTooLong(promptTokens: r.promptIDs.count, maxTokens: r.maxTokens, contextLength: context)
    }
    let length = r.promptIDs.count + r.maxTokens
    guard length <= context else {
      throw .promptTooLong(promptTokens: r.promptIDs.count, maxTokens: r.maxTokens, contextLength: context)
    }
    guard length <= cacheCapacityTokens else {
      throw .exceedsCacheCapacity(neededTokens: length, capacityTokens: cacheCapacityTokens)
    }
  }

  // MARK: - The step loop

  private func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

  private func run() {
    while true {
      lock.lock()
      while inbox.isEmpty && cancellations.isEmpty && !scheduler.hasWork && !stopped && !abortAll && !flushRequested {
        lock.wait()
      }
      if stopped {
        lock.unlock()
        return
      }
      let arrivals = inbox
      inbox.removeAll()
      // Still counted in `admission` until the next publish sees them in the scheduler.
      inboxGroupSizes.removeAll()
      let cancelled = cancellations
      cancellations.removeAll()
      let aborting = abortAll
      let flushing = flushRequested
      flushRequested = false
      lock.unlock()

      if flushing { scheduler.clearPrefixCache() }
      for (request, continuation, group) in arrivals {
        groupOf[request.id] = group
        admit(request, continuation)
      }
      for id in cancelled { finish(id, .abort) }
      if aborting {
        for id in Array(outputs.keys) { finish(id, .abort) }
        publish()
        continue
      }
      if scheduler.hasWork { step() }
      publish()
    }
  }

  private func admit(_ request: EngineRequest, _ continuation: AsyncStream<EngineEvent>.Continuation) {
    let output = RequestOutput(request: request, continuation: continuation, tokenizer: tokenizer, arrival: now())
    let method = request.speculative ?? configuration.speculation.method
    // Under a constraint every token must be masked before it is chosen, which drafts skip.
    if method != .off && request.constraint == nil {
      output.speculation = SpeculationState(
        method: method, maxDraft: request.draftTokens ?? configuration.speculation.draftTokens)
    }
    do {
      try scheduler.add(
        id: request.id, promptIDs: request.promptIDs, maxTokens: request.maxTokens, priority: request.priority,
        salt: request.cacheSalt)
      outputs[request.id] = output
    } catch {
      var c = output.completion(.error, now: now(), cachedPromptTokens: 0, preemptions: 0, error: error.description)
      c.completionTokens = 0
      continuation.yield(.finished(c))
      continuation.finish()
      groupOf[request.id] = nil
      retire(request.id)
    }
  }

  private func step() {
    if let every = configuration.preemptEverySteps, every > 0, stats.steps % every == every - 1,
      let victim = outputs.keys.sorted().last
    {
      scheduler.preempt(victim)
    }
    let plan = scheduler.schedule { id, tokens, maxCount in self.propose(id, tokens: tokens, maxCount: maxCount) }
    guard !plan.isEmpty else {
      // Nothing fits right now (cannot happen with validated requests, but never spin).
      Thread.sleep(forTimeInterval: 0.001)
      return
    }
    let start = now()
    for id in plan.started { outputs[id]?.firstScheduled = start }
    var batch = ForwardBatch()
    for c in plan.chunks {
      let tokens = scheduler.tokens(of: c.id)!
      let halfFrom = scheduler.halfAttentionFrom(of: c.id)
      let promptLength = scheduler.promptLength(of: c.id)
      if c.drafts.isEmpty {
        batch.append(
          tokens[c.start..<(c.start + c.count)], startPosition: c.start, blockTable: c.blockTable,
          logits: c.samples ? .last : nil, halfAttentionFrom: halfFrom, promptLength: promptLength,
          windowTable: c.windowTable)
      } else {
        // The last known token and the drafts: row i is the model's choice after drafts[..<i].
        batch.append(
          [tokens[c.start]] + c.drafts, startPosition: c.start, blockTable: c.blockTable, logits: .all,
          halfAttentionFrom: halfFrom, promptLength: promptLength, windowTable: c.windowTable)
      }
    }
    let logits: Logits
    do {
      logits = try model.forward(batch, cache: cache, scratch: scratch)
    } catch {
      logger.error("forward pass failed: \(error)")
      for c in plan.chunks { finish(c.id, .error, error: error.description) }
      return
    }
    scheduler.didCompute(plan)
    stats.steps += 1
    var row = 0
    let v = logits.vocabularySize
    for c in plan.chunks where c.samples {
      let rows = c.drafts.count + 1
      logits.values.withUnsafeBufferPointer { all in
        let block = UnsafeBufferPointer(rebasing: all[(row * v)..<((row + rows) * v)])  // [rows, vocab]
        if c.drafts.isEmpty {
          emitToken(c.id, logits: block)
        } else {
          verify(c.id, drafts: c.drafts, logits: block, vocabularySize: v)
        }
      }
      row += rows
    }
  }

  /// Draft tokens for a running decode, when its request speculates.
  private func propose(_ id: String, tokens: [Int32], maxCount: Int) -> [Int32] {
    guard let out = outputs[id], let spec = out.speculation else { return [] }
    let count = min(maxCount, spec.limit, out.request.maxTokens - out.generated)
    guard count > 0 else { return [] }
    switch spec.method {
    case .off: return []
    case .ngram:
      var proposer = NGramProposer()
      return proposer.propose(history: tokens, count: count).map(\.id)
    case .draftModel:
      guard let draftModel else { return [] }
      // Greedy drafts are a function of the history, so checking them as point masses keeps the
      // target's distribution under sampling too (SpeculativeAcceptance).
      let r = out.request
      let proposer =
        out.draftProposer
        ?? DraftModelProposer(
          model: draftModel, sampling: .greedy, maxTokens: r.promptIDs.count + r.maxTokens + spec.maxDraft + 1)
      out.draftProposer = proposer
      do { return try proposer.propose(history: tokens, count: count).map(\.id) } catch { return [] }
    }
  }

  /// Checks a decode's drafts against the model's rows (`logits`: [drafts + 1, vocab]): greedy keeps
  /// the longest prefix equal to the model's own choices, sampling applies the rejection rule, so
  /// the output is what decoding one token at a time would give (greedy) or has its distribution.
  /// Then reports the kept drafts and the token after them, one event each.
  private func verify(_ id: String, drafts: [Int32], logits: UnsafeBufferPointer<Float>, vocabularySize v: Int) {
    guard let out = outputs[id], var history = scheduler.tokens(of: id) else { return }
    func raw(_ i: Int) -> UnsafeBufferPointer<Float> { UnsafeBufferPointer(rebasing: logits[(i * v)..<((i + 1) * v)]) }
    var kept = 0
    var next: Int32? = nil
    for d in drafts {
      let dist = out.sampler.distribution(biased(raw(kept), out.request)[...], history: history)
      if let correction = SpeculativeAcceptance.check(target: dist, draft: DraftToken(id: d), sampler: &out.sampler) {
        next = correction
        break
      }
      kept += 1
      history.append(d)
    }
    let last = next ?? out.sampler.sample(biased(raw(kept), out.request)[...], history: history)
    out.speculation?.record(kept: kept, of: drafts.count)
    stats.specDrafts += 1
    stats.specDraftTokens += drafts.count
    stats.specAcceptedTokens += kept
    scheduler.acceptDrafts(id, count: kept)
    for i in 0..<kept {
      guard deliver(id, drafts[i], logits: raw(i), known: true) else { return }
    }
    deliver(id, last, logits: raw(kept), known: false)
  }

  /// A row with the request's logit bias applied.
  private func biased(_ raw: UnsafeBufferPointer<Float>, _ r: EngineRequest) -> [Float] {
    var row = Array(raw)  // [vocabularySize]
    for (tok, b) in r.logitBias { row[Int(tok)] += b }
    return row
  }

  /// Samples the next token of `id` from its logits row and reports it.
  private func emitToken(_ id: String, logits raw: UnsafeBufferPointer<Float>) {
    guard let out = outputs[id] else { return }
    let r = out.request
    var row = biased(raw, r)  // [vocabularySize], masked below
    if out.constraint != nil {
      row.withUnsafeMutableBufferPointer { out.constraint!.mask($0) }
    }
    let history = scheduler.tokens(of: id) ?? []
    let token = out.sampler.sample(row[...], history: history)
    out.constraint?.advance(token)
    deliver(id, token, logits: raw, known: false)
  }

  /// Reports one chosen token (its logprobs from `raw`, the row it was chosen from) and ends the
  /// request when it is an end token, completes a stop string or reaches max tokens. `known`: the
  /// scheduler already holds the token (an accepted draft). False when the request has finished.
  @discardableResult
  private func deliver(_ id: String, _ token: Int32, logits raw: UnsafeBufferPointer<Float>, known: Bool) -> Bool {
    guard let out = outputs[id] else { return false }
    let r = out.request
    let t = now()
    if out.firstToken == nil { out.firstToken = t }

    var chosen: TokenLogprob? = nil
    var top: [TokenLogprob] = []
    if let n = r.topLogprobs {
      let lse = Logprobs.logSumExp(raw)
      chosen = TokenLogprob(id: token, text: tokenizer.decode([token], special: true), logprob: raw[Int(token)] - lse)
      top = Logprobs.top(raw, count: n, logSumExp: lse).map {
        TokenLogprob(id: $0.id, text: tokenizer.decode([$0.id], special: true), logprob: $0.logprob)
      }
    }

    let endOfGeneration = !r.ignoreEndOfGeneration && tokenizer.isEndOfGeneration(token)
    if endOfGeneration || r.stopTokenIDs.contains(token) {
      // The end token itself is not output; release any text held back for a possible stop string.
      let rest = out.stops.push(out.detokenizer.flush()) + out.stops.flush()
      if !rest.isEmpty {
        out.continuation.yield(.token(GeneratedToken(id: token, text: rest, logprob: nil, topLogprobs: [], time: out.seconds(since: out.arrival, to: t))))
      }
      finish(id, .stop)
      return false
    }
    out.generated += 1
    stats.generationTokensTotal += 1
    if !known { scheduler.append(id, token: token) }
    var text = out.stops.push(out.detokenizer.append(token))
    let length = out.generated >= r.maxTokens
    // A constraint that is complete (a whole JSON document) ends the output like an end token.
    let complete = out.constraint?.isComplete == true
    if (length || complete) && !out.stops.stopped {
      text += out.stops.push(out.detokenizer.flush()) + out.stops.flush()
    }
    out.continuation.yield(
      .token(GeneratedToken(id: token, text: text, logprob: chosen, topLogprobs: top, time: out.seconds(since: out.arrival, to: t))))
    if out.stops.stopped || complete {
      finish(id, .stop)
      return false
    } else if length {
      finish(id, .length)
      return false
    }
    return true
  }

  private func finish(_ id: String, _ reason: FinishReason, error: String? = nil) {
    guard let out = outputs[id] else { return }
    let completion = out.completion(
      reason, now: now(), cachedPromptTokens: scheduler.cachedPromptTokens(of: id),
      preemptions: scheduler.preemptions(of: id), error: error)
    scheduler.remove(id)
    outputs[id] = nil
    groupOf[id] = nil
    stats.requestsFinished += 1
    stats.promptTokensTotal += out.request.promptIDs.count
    out.continuation.yield(.finished(completion))
    out.continuation.finish()
    retire(id)
  }

  private func retire(_ id: String) {
    lock.lock()
    live.remove(id)
    lock.unlock()
  }

  /// Publishes the statistics snapshot readers see.
  private func publish() {
    stats.running = scheduler.runningCount
    stats.waiting = scheduler.waitingCount
    stats.runningTokens = scheduler.runningTokens
    stats.waitingTokens = scheduler.waitingTokens
    stats.kvBlocksUsed = scheduler.pool.usedCount
    stats.kvWindowBlocksUsed = scheduler.windowPool?.usedCount ?? 0
    stats.kvWindowBlocksPeak = max(stats.kvWindowBlocksPeak, stats.kvWindowBlocksUsed)
    stats.prefixQueryTokens = scheduler.prefixQueryTokens
    stats.prefixHitTokens = scheduler.prefixHitTokens
    stats.preemptionsTotal = scheduler.preemptionsTotal
    var counts = AdmissionCounts(
      maxRunning: configuration.maxRunning, running: scheduler.runningCount,
      waitingGroups: scheduler.waitingIDs.map { groupOf[$0] ?? -1 })
    lock.lock()
    for size in inboxGroupSizes { counts.add(groupOf: size) }
    admission = counts
    snapshot = stats
    lock.unlock()
  }
}
