import Foundation

/// What one load level measured, with vLLM's benchmark_serving definitions: TTFT from sending to the
/// first token, TPOT = (e2e − TTFT) / (output tokens − 1) per request, ITL = every gap between
/// consecutive tokens (all requests pooled), throughput = all output tokens / wall time of the level.
public struct LoadLevelResult: Sendable, Codable, Equatable {
  public var concurrency: Int
  /// Poisson arrival rate (requests/s) in request-rate mode; nil for a closed loop.
  public var requestRate: Double?
  public var requests: Int
  public var completed: Int
  public var failed: Int
  public var outputTokens: Int
  public var promptTokens: Int
  public var wallSeconds: Double
  /// All output tokens over wall time, prefill included.
  public var outputTokensPerSecond: Double
  public var ttft: Percentiles  // seconds
  /// Time per output token after the first, per request.
  public var tpot: Percentiles  // seconds
  /// Gaps between consecutive tokens, all requests pooled.
  public var itl: Percentiles  // seconds
  public var e2e: Percentiles  // seconds
  public var queue: Percentiles  // seconds
  /// Speculative decoding during the level (nil when nothing was drafted): draft tokens checked and
  /// accepted, their ratio, and tokens per checking pass.
  public var draftTokens: Int? = nil
  public var acceptedTokens: Int? = nil
  public var acceptanceRate: Double? = nil
  public var meanAcceptedLength: Double? = nil
  /// The distinct output-token counts of the completed requests (one value when each returned
  /// exactly `max_tokens`, as requests that ignore end-of-generation must).
  public var outputTokensPerRequest: [Int] = []

  enum CodingKeys: String, CodingKey {
    case concurrency, requests, completed, failed, ttft, tpot, itl, e2e, queue
    case outputTokensPerRequest = "output_tokens_per_request"
    case draftTokens = "draft_tokens"
    case acceptedTokens = "accepted_tokens"
    case acceptanceRate = "acceptance_rate"
    case meanAcceptedLength = "mean_accepted_length"
    case requestRate = "request_rate"
    case outputTokens = "output_tokens"
    case promptTokens = "prompt_tokens"
    case wallSeconds = "wall_s"
    case outputTokensPerSecond = "output_tokens_per_second"
  }
}

/// Median, 95th and 99th percentiles and mean of a sample (linear interpolation, as numpy does).
public struct Percentiles: Sendable, Codable, Equatable {
  public var mean: Double
  public var p50: Double
  public var p95: Double
  public var p99: Double

  public init(_ xs: [Double]) {
    let s = xs.filter { $0.isFinite }.sorted()
    func at(_ p: Double) -> Double {
      guard !s.isEmpty else { return .nan }
      let k = Double(s.count - 1) * p / 100
      let f = Int(k)
      let c = min(f + 1, s.count - 1)
      return s[f] + (s[c] - s[f]) * (k - Double(f))
    }
    mean = s.isEmpty ? .nan : s.reduce(0, +) / Double(s.count)
    p50 = at(50)
    p95 = at(95)
    p99 = at(99)
  }

  enum CodingKeys: String, CodingKey { case mean, p50, p95, p99 }

  /// An empty sample (a figure the server does not report, e.g. llama-server's queue time) encodes as
  /// null: JSON has no NaN.
  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    for (key, value) in [(CodingKeys.mean, mean), (.p50, p50), (.p95, p95), (.p99, p99)] {
      if value.isFinite { try c.encode(value, forKey: key) } else { try c.encodeNil(forKey: key) }
    }
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    func read(_ key: CodingKeys) throws -> Double { try c.decodeIfPresent(Double.self, forKey: key) ?? .nan }
    mean = try read(.mean)
    p50 = try read(.p50)
    p95 = try read(.p95)
    p99 = try read(.p99)
  }
}

/// One measured request, whoever carried it (the engine in-process, or HTTP to a running server).
/// Times are seconds from sending the request, on the monotonic clock.
public struct LoadSample: Sendable {
  public var ok = false
  public var promptTokens = 0
  public var outputTokens = 0
  /// Send → first token (in-process) or first chunk carrying text (HTTP).
  public var ttft = Double.nan
  public var e2e = Double.nan
  /// Arrival → first scheduled, as the engine reports it (NaN when the server does not say).
  public var queue = Double.nan
  /// Gaps between consecutive tokens (text-carrying chunks over HTTP).
  public var gaps: [Double] = []
  /// Speculation counts a server reports per request (HTTP `timings`); nil in-process, where the
  /// engine's own counters are read instead.
  public var draftTokens: Int? = nil
  public var acceptedTokens: Int? = nil
  /// Target passes that checked drafts.
  public var draftPasses: Int? = nil

  public init() {}
}

/// The closed-loop and Poisson load patterns of `peregrine bench serve`, over any way of sending a
/// request: the engine in-process (`init(engine:…)`) or a server over HTTP (`init(maxTokens:send:)`),
/// with the same metric definitions, so the two compare.
public struct LoadGenerator: Sendable {
  public var maxTokens = 128
  public var requestsPerLevel: @Sendable (Int) -> Int = { max(4, 2 * $0) }
  /// Sends request `index` of the level at `concurrency` (make prompts unique to defeat prefix reuse)
  /// and measures it.
  public var send: @Sendable (_ concurrency: Int, _ index: Int) async -> LoadSample
  /// In-process only: the engine's totals, whose differences give a level's speculation figures.
  var engineStatistics: (@Sendable () -> EngineStatistics)?

  /// Drives a server (or anything else) through `send`.
  public init(maxTokens: Int = 128, send: @escaping @Sendable (_ concurrency: Int, _ index: Int) async -> LoadSample) {
    self.maxTokens = maxTokens
    self.send = send
  }

  /// Drives `engine` in-process; `prompt` builds the ids of request `index` at `concurrency`. Each
  /// request streams `maxTokens` tokens, greedy, with end-of-generation ignored.
  public init(engine: InferenceEngine, maxTokens: Int = 128, prompt: @escaping @Sendable (Int, Int) -> [Int32]) {
    self.maxTokens = maxTokens
    self.send = { c, i in await LoadGenerator.one(engine: engine, ids: prompt(c, i), maxTokens: maxTokens) }
    self.engineStatistics = { engine.statistics() }
  }

  /// One in-process request, timed from submission on the monotonic clock.
  static func one(engine: InferenceEngine, ids: [Int32], maxTokens: Int) async -> LoadSample {
    var s = LoadSample()
    s.promptTokens = ids.count
    let start = ContinuousClock.now
    guard let stream = try? engine.submit(
      EngineRequest(promptIDs: ids, sampling: .greedy, maxTokens: maxTokens, ignoreEndOfGeneration: true))
    else { return s }
    var last: ContinuousClock.Instant? = nil
    for await event in stream {
      let now = ContinuousClock.now
      switch event {
      case .token:
        if let last { s.gaps.append((now - last).seconds) } else { s.ttft = (now - start).seconds }
        last = now
        s.outputTokens += 1
      case .finished(let c):
        s.ok = c.finishReason == .length || c.finishReason == .stop
        s.queue = c.timings.queueSeconds
        s.e2e = (now - start).seconds
      }
    }
    return s
  }

  /// A closed loop: `concurrency` clients, each sending its next request when the previous ends.
  public func closedLoop(concurrency: Int) async -> LoadLevelResult {
    let total = requestsPerLevel(concurrency)
    let counter = Counter()
    let before = engineStatistics?()
    let start = ContinuousClock.now
    let send = self.send
    let samples = await withTaskGroup(of: [LoadSample].self) { group in
      for _ in 0..<concurrency {
        group.addTask {
          var mine: [LoadSample] = []
          while let i = counter.next(below: total) { mine.append(await send(concurrency, i)) }
          return mine
        }
      }
      var all: [LoadSample] = []
      for await part in group { all += part }
      return all
    }
    return summarize(
      samples, concurrency: concurrency, rate: nil, wall: (ContinuousClock.now - start).seconds, before: before)
  }

  /// Open loop: `count` requests arriving as a Poisson process at `rate` requests/s (seeded).
  public func poisson(rate: Double, count: Int, seed: UInt64 = 1) async -> LoadLevelResult {
    var rng = SeededRandom(seed: seed)
    var offsets: [Double] = []
    var t = 0.0
    for _ in 0..<count {
      t += -log(max(1e-12, 1 - rng.nextUnit())) / rate
      offsets.append(t)
    }
    let before = engineStatistics?()
    let start = ContinuousClock.now
    let send = self.send
    let samples = await withTaskGroup(of: LoadSample.self) { group in
      for (i, offset) in offsets.enumerated() {
        group.addTask {
          try? await Task.sleep(until: start + .nanoseconds(Int64(offset * 1e9)), clock: .continuous)
          return await send(0, i)
        }
      }
      var all: [LoadSample] = []
      for await s in group { all.append(s) }
      return all
    }
    return summarize(samples, concurrency: 0, rate: rate, wall: (ContinuousClock.now - start).seconds, before: before)
  }

  /// `before`: the engine's statistics when the level began (speculation counters are differenced);
  /// without an engine, the samples' own speculation counts are summed.
  func summarize(
    _ samples: [LoadSample], concurrency: Int, rate: Double?, wall: Double, before: EngineStatistics?
  ) -> LoadLevelResult {
    let ok = samples.filter(\.ok)
    let out = ok.reduce(0) { $0 + $1.outputTokens }
    var result = LoadLevelResult(
      concurrency: concurrency, requestRate: rate, requests: samples.count, completed: ok.count,
      failed: samples.count - ok.count, outputTokens: out, promptTokens: ok.reduce(0) { $0 + $1.promptTokens },
      wallSeconds: wall, outputTokensPerSecond: wall > 0 ? Double(out) / wall : 0,
      ttft: Percentiles(ok.map(\.ttft)),
      tpot: Percentiles(ok.compactMap { s in s.outputTokens > 1 ? (s.e2e - s.ttft) / Double(s.outputTokens - 1) : nil }),
      itl: Percentiles(ok.flatMap(\.gaps)), e2e: Percentiles(ok.map(\.e2e)), queue: Percentiles(ok.map(\.queue)))
    result.outputTokensPerRequest = Array(Set(ok.map(\.outputTokens))).sorted()
    var passes = 0
    var drafted = 0
    var accepted = 0
    if let before, let after = engineStatistics?() {
      passes = after.specDrafts - before.specDrafts
      drafted = after.specDraftTokens - before.specDraftTokens
      accepted = after.specAcceptedTokens - before.specAcceptedTokens
    } else {
      passes = ok.reduce(0) { $0 + ($1.draftPasses ?? 0) }
      drafted = ok.reduce(0) { $0 + ($1.draftTokens ?? 0) }
      accepted = ok.reduce(0) { $0 + ($1.acceptedTokens ?? 0) }
    }
    if drafted > 0 {
      result.draftTokens = drafted
      result.acceptedTokens = accepted
      result.acceptanceRate = Double(accepted) / Double(drafted)
      result.meanAcceptedLength = 1 + Double(accepted) / Double(max(1, passes))
    }
    return result
  }
}

/// Hands out request indices to the closed loop's clients.
final class Counter: @unchecked Sendable {
  private let lock = NSLock()
  private var value = 0

  func next(below limit: Int) -> Int? {
    lock.lock()
    defer { lock.unlock() }
    guard value < limit else { return nil }
    value += 1
    return value - 1
  }
}

extension Duration {
  /// The duration in seconds as a Double.
  public var seconds: Double {
    let (s, a) = components
    return Double(s) + Double(a) / 1e18
  }
}
