import Accounts
import Engine
import Foundation
import HTTPTypes
import Hummingbird

/// The client closed its connection before its response was complete: nothing more can be sent.
/// Counted and recorded as 499 (nginx's "client closed request"), never as a server error.
struct ClientGone: Error {}

/// Runs a planned generation and turns engine events into OpenAI responses: one JSON body, or an
/// SSE stream of chunks ending with `data: [DONE]`.
///
/// Whatever the response kind, a client that leaves cancels its generations at once: the
/// connection's `ConnectionWatch` reports the closed socket while the engine works, so the KV
/// blocks are freed within a step, and the request is recorded as 499.
struct CompletionHandler: Sendable {
  let server: ServerContext

  /// Who is asking, and how to tell whether they are still there.
  struct Caller: Sendable {
    var requestID: String
    /// Who the request is metered as.
    var principal: Principal = .open
    /// Nil outside a live connection (in-process tests).
    var watch: ConnectionWatch?
    var outcome: ResponseOutcome
    /// `Cache-Control: no-cache`: skip the result cache.
    var bypassCache = false
    /// The request body, kept for `store: true`.
    var body: Data?
    /// Tokens held against the allowance from admission until settlement.
    var reservation: Reservation?
    /// The machine-cost clock's mark at admission.
    var machineMark = 0.0

    /// The id usage rows carry (none on an open server).
    var apiKeyID: String? { principal.kind == .open ? nil : principal.id }
  }

  func respond(plan: GenerationPlan, engine: any ServingEngine, caller: Caller) async throws -> Response {
    var plan = plan
    var caller = caller
    let start = ContinuousClock.now
    let metering = server.metering
    caller.reservation = try await metering.reserve(&plan, principal: caller.principal, requestID: caller.requestID)
    var headers = Self.rateLimitHeaders(caller.reservation)
    let cacheKey =
      plan.cacheable && !caller.bypassCache && metering.results.isEnabled
      ? CachedResult.key(plan, namespace: caller.principal.id) : nil
    if let cacheKey { headers[Self.xCache] = "miss" }
    caller.machineMark = metering.clock.begin()
    if let cacheKey, let hit = metering.results.value(for: cacheKey) {
      headers[Self.xCache] = "hit"
      return try await replay(hit, plan: plan, caller: caller, headers: headers, start: start)
    }
    let ids = plan.requests.map(\.id)
    let stop: @Sendable () -> Void = { for id in ids { engine.cancel(id) } }
    let watch = caller.watch
    let streams: ChoiceStreams
    do {
      streams = try ChoiceStreams(
        plan: plan, engine: engine, backlogLimit: server.configuration.maxStreamBacklogBytes,
        onOverflow: {
          // The client reads slower than tokens come: drop it rather than hold its backlog.
          watch?.drop()
          stop()
        })
    } catch {
      _ = metering.clock.end(caller.machineMark)
      await metering.release(caller.reservation)
      throw APIError(error)
    }
    if plan.stream {
      // The status is only known once the stream ends: the stream reports it.
      caller.outcome.defer()
      headers[.contentType] = "text/event-stream"
      headers[.cacheControl] = "no-cache"
      let finalPlan = plan
      let finalCaller = caller
      return Response(
        status: .ok, headers: headers,
        body: ResponseBody { writer in
          try await stream(
            plan: finalPlan, streams: streams, writer: &writer, caller: finalCaller, start: start, stop: stop,
            cacheKey: cacheKey)
        })
    }
    let token = watch?.onLeave(stop)
    defer { if let token { watch?.remove(token) } }
    var choices = Array(repeating: ChoiceAccumulator(), count: plan.requests.count)
    for await (choice, event) in streams.events {
      streams.consumed(event)
      consume(event, choice: choice, into: &choices)
    }
    let complete = choices.allSatisfy { $0.completion != nil }
    if watch?.isGone == true || !complete {
      // Gone, or this task was cancelled (the connection closed under it).
      stop()
      server.metrics.observeAbandoned(choices.filter { $0.completion == nil }.count)
      server.recordUsage(
        plan: plan, choices: choices, status: 499, caller: caller, elapsed: Self.seconds(since: start))
      throw ClientGone()
    }
    let body = try whole(plan: plan, choices: choices, caller: caller)
    remember(plan: plan, choices: choices, cacheKey: cacheKey, caller: caller, response: body)
    return Response.json(body, headers: headers)
  }

  /// The body for collected choices, or the error to answer with (500 if the engine failed one).
  private func whole(
    plan: GenerationPlan, choices: [ChoiceAccumulator], caller: Caller, cacheHit: Bool = false
  ) throws(APIError) -> Data {
    if let failed = choices.first(where: { $0.completion?.finishReason == .error }) {
      server.recordUsage(plan: plan, choices: choices, status: 500, caller: caller)
      throw .internal("Generation failed: \(failed.completion?.error ?? "unknown error")")
    }
    let cost = server.recordUsage(plan: plan, choices: choices, status: 200, caller: caller, cacheHit: cacheHit).cost
    return ResponseBuilder(plan: plan, cost: cost).whole(choices)
  }

  /// After a complete, successful generation: keep it for the result cache and, with `store: true`,
  /// in the caller's stored completions.
  private func remember(
    plan: GenerationPlan, choices: [ChoiceAccumulator], cacheKey: String?, caller: Caller, response: Data
  ) {
    let finished = choices.allSatisfy { $0.completion.map { [.stop, .length].contains($0.finishReason) } ?? false }
    guard finished else { return }
    if let cacheKey {
      let result = CachedResult(choices: choices)
      server.metering.results.store(result, bytes: result.bytes, for: cacheKey)
    }
    if plan.store { server.storeCompletion(plan: plan, caller: caller, response: response) }
  }

  /// Answers from the result cache: the same choices, whole or as a stream, charged as cached input.
  private func replay(
    _ hit: CachedResult, plan: GenerationPlan, caller: Caller, headers: HTTPFields, start: ContinuousClock.Instant
  ) async throws -> Response {
    let choices = hit.replayed(
      promptTokenCounts: plan.promptTokenCounts, n: plan.n, elapsed: Self.seconds(since: start))
    if !plan.stream {
      let body = try whole(plan: plan, choices: choices, caller: caller, cacheHit: true)
      if plan.store { server.storeCompletion(plan: plan, caller: caller, response: body) }
      return Response.json(body, headers: headers)
    }
    caller.outcome.defer()
    var headers = headers
    headers[.contentType] = "text/event-stream"
    headers[.cacheControl] = "no-cache"
    return Response(
      status: .ok, headers: headers,
      body: ResponseBody { writer in
        let settled = server.recordUsage(plan: plan, choices: choices, status: 200, caller: caller, cacheHit: true)
        let builder = ResponseBuilder(plan: plan, cost: settled.cost)
        var chunks: [Data] = []
        for (i, c) in choices.enumerated() {
          if let opening = builder.openingChunk(choice: i) { chunks.append(opening) }
          var offset = 0
          var splitter = builder.splitter()
          for t in c.tokens {
            if splitter != nil {
              chunks += builder.splitTokenChunks(t, splitter: &splitter!, choice: i)
            } else if let chunk = builder.tokenChunk(t, choice: i, textOffset: offset) {
              chunks.append(chunk)
            }
            offset += t.text.count
          }
          if let done = c.completion {
            if splitter != nil {
              chunks += builder.splitFinalChunks(done, splitter: &splitter!, choice: i)
            } else {
              chunks.append(builder.finalChunk(done, choice: i))
            }
          }
        }
        if plan.includeUsage { chunks.append(builder.usageChunk(choices)) }
        chunks.append(SSEEncoder.done)
        for chunk in chunks where !(await Self.write(chunk, to: &writer)) {
          server.correctUsage(row: settled.row, status: 499)
          server.metrics.observeResponse(status: 499)
          throw ClientGone()
        }
        try await writer.finish(nil)
        server.metrics.observeResponse(status: 200)
      })
  }

  static let xCache = HTTPField.Name("x-cache")!

  /// OpenAI's `x-ratelimit-*` headers for a metered caller, as of its admission.
  static func rateLimitHeaders(_ reservation: Reservation?) -> HTTPFields {
    var fields = HTTPFields()
    for (name, value) in reservation?.status?.headers ?? [] {
      if let field = HTTPField.Name(name) { fields[field] = value }
    }
    return fields
  }

  private func consume(_ event: EngineEvent, choice: Int, into choices: inout [ChoiceAccumulator]) {
    switch event {
    case .token(let t):
      server.metrics.observeToken(t, previousTime: choices[choice].lastTokenTime)
      choices[choice].add(t)
    case .finished(let c):
      choices[choice].completion = c
      server.metrics.observeFinish(c)
    }
  }

  /// Streams chunks as tokens come. A failed write or a closed connection stops the generations;
  /// the rest of their events are still read (they finish as aborted within a step) so metrics and
  /// the usage record see them. The usage record is committed before `[DONE]` is sent, so a client
  /// that saw `[DONE]` has its record even if the process dies right after.
  private func stream(
    plan: GenerationPlan, streams: ChoiceStreams, writer: inout any ResponseBodyWriter, caller: Caller,
    start: ContinuousClock.Instant, stop: @escaping @Sendable () -> Void, cacheKey: String?
  ) async throws {
    let watch = caller.watch
    let token = watch?.onLeave(stop)
    defer { if let token { watch?.remove(token) } }
    let builder = ResponseBuilder(plan: plan)
    var choices = Array(repeating: ChoiceAccumulator(), count: plan.requests.count)
    // Per choice: reasoning and tool calls split out of the text as it streams.
    var splitters = Array(repeating: builder.splitter(), count: plan.requests.count)
    var left = false
    for choice in choices.indices where !left {
      if let opening = builder.openingChunk(choice: choice) {
        left = !(await Self.write(opening, to: &writer))
      }
    }
    if left { stop() }
    for await (choice, event) in streams.events {
      streams.consumed(event)
      let offset = choices[choice].text.count
      consume(event, choice: choice, into: &choices)
      if left || watch?.isGone == true {
        left = true
        continue
      }
      var chunks: [Data] = []
      switch event {
      case .token(let t):
        if splitters[choice] != nil {
          chunks = builder.splitTokenChunks(t, splitter: &splitters[choice]!, choice: choice)
        } else if let chunk = builder.tokenChunk(t, choice: choice, textOffset: offset) {
          chunks = [chunk]
        }
      case .finished(let c):
        if splitters[choice] != nil {
          chunks = builder.splitFinalChunks(c, splitter: &splitters[choice]!, choice: choice)
        } else {
          chunks = [builder.finalChunk(c, choice: choice)]
        }
      }
      for chunk in chunks where !left {
        if !(await Self.write(chunk, to: &writer)) {
          left = true
          stop()
        }
      }
    }
    let complete = choices.allSatisfy { $0.completion != nil }
    if left || watch?.isGone == true || !complete {
      try abandon(plan: plan, choices: choices, caller: caller, start: start)
    }
    let failed = choices.contains { $0.completion?.finishReason == .error }
    let status = failed ? 500 : 200
    let settled = server.recordUsage(plan: plan, choices: choices, status: status, caller: caller)
    let row = settled.row
    var delivered = true
    if plan.includeUsage {
      var final = builder
      final.cost = settled.cost
      delivered = await Self.write(final.usageChunk(choices), to: &writer)
    }
    if delivered { delivered = await Self.write(SSEEncoder.done, to: &writer) }
    if delivered {
      do { try await writer.finish(nil) } catch { delivered = false }
    }
    guard delivered else {
      // Left during the last writes: `[DONE]` may not have arrived.
      server.correctUsage(row: row, status: 499)
      server.metrics.observeResponse(status: 499)
      throw ClientGone()
    }
    server.metrics.observeResponse(status: status)
    if !failed {
      remember(
        plan: plan, choices: choices, cacheKey: cacheKey, caller: caller,
        response: ResponseBuilder(plan: plan, cost: settled.cost).whole(choices))
    }
  }

  /// A stream whose client left: recorded and counted as 499, and the connection closed.
  private func abandon(plan: GenerationPlan, choices: [ChoiceAccumulator], caller: Caller, start: ContinuousClock.Instant)
    throws -> Never
  {
    server.metrics.observeAbandoned(choices.filter { $0.completion == nil }.count)
    server.recordUsage(plan: plan, choices: choices, status: 499, caller: caller, elapsed: Self.seconds(since: start))
    server.metrics.observeResponse(status: 499)
    server.logger.info("request \(caller.requestID): the client closed the connection before the stream ended")
    throw ClientGone()
  }

  /// Writes one chunk; false when the client is gone.
  private static func write(_ data: Data, to writer: inout any ResponseBodyWriter) async -> Bool {
    do {
      try await writer.write(ByteBuffer(bytes: data))
      return true
    } catch {
      return false
    }
  }

  static func seconds(since start: ContinuousClock.Instant) -> Double {
    let (s, atto) = (ContinuousClock.now - start).components
    return Double(s) + Double(atto) * 1e-18
  }
}
