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
    var apiKeyID: String?
    /// Nil outside a live connection (in-process tests).
    var watch: ConnectionWatch?
    var outcome: ResponseOutcome
  }

  func respond(plan: GenerationPlan, engine: any ServingEngine, caller: Caller) async throws -> Response {
    let start = ContinuousClock.now
    let stop: @Sendable () -> Void = { for r in plan.requests { engine.cancel(r.id) } }
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
      throw APIError(error)
    }
    if plan.stream {
      // The status is only known once the stream ends: the stream reports it.
      caller.outcome.defer()
      return Response(
        status: .ok,
        headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
        body: ResponseBody { writer in
          try await stream(plan: plan, streams: streams, writer: &writer, caller: caller, start: start, stop: stop)
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
        plan: plan, choices: choices, status: 499, requestID: caller.requestID, apiKeyID: caller.apiKeyID,
        elapsed: Self.seconds(since: start))
      throw ClientGone()
    }
    return .json(try whole(plan: plan, choices: choices, caller: caller))
  }

  /// The body for collected choices, or the error to answer with (500 if the engine failed one).
  private func whole(plan: GenerationPlan, choices: [ChoiceAccumulator], caller: Caller) throws(APIError) -> Data {
    if let failed = choices.first(where: { $0.completion?.finishReason == .error }) {
      server.recordUsage(
        plan: plan, choices: choices, status: 500, requestID: caller.requestID, apiKeyID: caller.apiKeyID)
      throw .internal("Generation failed: \(failed.completion?.error ?? "unknown error")")
    }
    server.recordUsage(plan: plan, choices: choices, status: 200, requestID: caller.requestID, apiKeyID: caller.apiKeyID)
    return ResponseBuilder(plan: plan).whole(choices)
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
    start: ContinuousClock.Instant, stop: @escaping @Sendable () -> Void
  ) async throws {
    let watch = caller.watch
    let token = watch?.onLeave(stop)
    defer { if let token { watch?.remove(token) } }
    let builder = ResponseBuilder(plan: plan)
    var choices = Array(repeating: ChoiceAccumulator(), count: plan.requests.count)
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
      let chunk: Data?
      switch event {
      case .token(let t): chunk = builder.tokenChunk(t, choice: choice, textOffset: offset)
      case .finished(let c): chunk = builder.finalChunk(c, choice: choice)
      }
      if let chunk, !(await Self.write(chunk, to: &writer)) {
        left = true
        stop()
      }
    }
    let complete = choices.allSatisfy { $0.completion != nil }
    if left || watch?.isGone == true || !complete {
      try abandon(plan: plan, choices: choices, caller: caller, start: start)
    }
    let failed = choices.contains { $0.completion?.finishReason == .error }
    let status = failed ? 500 : 200
    let row = server.recordUsage(
      plan: plan, choices: choices, status: status, requestID: caller.requestID, apiKeyID: caller.apiKeyID)
    var delivered = true
    if plan.includeUsage { delivered = await Self.write(builder.usageChunk(choices), to: &writer) }
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
  }

  /// A stream whose client left: recorded and counted as 499, and the connection closed.
  private func abandon(plan: GenerationPlan, choices: [ChoiceAccumulator], caller: Caller, start: ContinuousClock.Instant)
    throws -> Never
  {
    server.metrics.observeAbandoned(choices.filter { $0.completion == nil }.count)
    server.recordUsage(
      plan: plan, choices: choices, status: 499, requestID: caller.requestID, apiKeyID: caller.apiKeyID,
      elapsed: Self.seconds(since: start))
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
