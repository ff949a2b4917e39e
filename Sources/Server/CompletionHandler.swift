import Engine
import Foundation
import HTTPTypes
import Hummingbird

/// Runs a planned generation and turns engine events into OpenAI responses: one JSON body, or an
/// SSE stream of chunks ending with `data: [DONE]`.
struct CompletionHandler: Sendable {
  let server: ServerContext

  func respond(plan: GenerationPlan, engine: any ServingEngine, requestID: String, apiKeyID: String?) async throws
    -> Response
  {
    let streams: ChoiceStreams
    do {
      streams = try ChoiceStreams(plan: plan, engine: engine)
    } catch {
      throw APIError(error)
    }
    if plan.stream {
      return Response(
        status: .ok,
        headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
        body: ResponseBody { writer in
          try await stream(
            plan: plan, streams: streams, engine: engine, writer: &writer, requestID: requestID, apiKeyID: apiKeyID)
        })
    }
    // Collect on a task of its own so the handler can notice a client that leaves: HTTP/1 only
    // reveals a closed connection when something is written to it.
    let collector = Task { [self] in
      var choices = Array(repeating: ChoiceAccumulator(), count: plan.requests.count)
      for await (choice, event) in streams.events {
        consume(event, choice: choice, into: &choices)
      }
      return choices
    }
    if await Self.finishes(collector, within: Self.heartbeatInterval) {
      return .json(
        try whole(plan: plan, choices: await collector.value, engine: engine, requestID: requestID, apiKeyID: apiKeyID))
    }
    // Still generating: commit to 200 and send a space (leading JSON whitespace) each interval; a
    // failed write means the client is gone and its generations are cancelled.
    return Response(
      status: .ok, headers: [.contentType: "application/json"],
      body: ResponseBody { writer in
        try await heartbeat(
          collector, plan: plan, engine: engine, writer: &writer, requestID: requestID, apiKeyID: apiKeyID)
      })
  }

  private func heartbeat(
    _ collector: Task<[ChoiceAccumulator], Never>, plan: GenerationPlan, engine: any ServingEngine,
    writer: inout any ResponseBodyWriter, requestID: String, apiKeyID: String?
  ) async throws {
    while !(await Self.finishes(collector, within: Self.heartbeatInterval)) {
      do {
        try await writer.write(ByteBuffer(string: " "))
      } catch {
        collector.cancel()
        abandon(plan: plan, choices: await collector.value, engine: engine, requestID: requestID, apiKeyID: apiKeyID)
        throw error
      }
    }
    let choices = await collector.value
    let body: Data
    do {
      body = try whole(plan: plan, choices: choices, engine: engine, requestID: requestID, apiKeyID: apiKeyID)
    } catch {
      // Too late for an error status: the body says what went wrong.
      body = error.body
    }
    try await writer.write(ByteBuffer(bytes: body))
    try await writer.finish(nil)
  }

  static let heartbeatInterval: Duration = .seconds(1)

  /// Whether `task` completes before `timeout` passes (the task keeps running either way).
  static func finishes<T: Sendable>(_ task: Task<T, Never>, within timeout: Duration) async -> Bool {
    await withTaskGroup(of: Bool.self) { group in
      group.addTask {
        _ = await task.value
        return true
      }
      group.addTask {
        try? await Task.sleep(for: timeout)
        return false
      }
      let first = await group.next() ?? false
      group.cancelAll()
      return first
    }
  }

  /// The body for collected choices, or the error to answer with (500 if the engine failed one).
  private func whole(
    plan: GenerationPlan, choices: [ChoiceAccumulator], engine: any ServingEngine, requestID: String, apiKeyID: String?
  ) throws(APIError) -> Data {
    let complete = choices.allSatisfy { $0.completion != nil }
    if !complete {
      abandon(plan: plan, choices: choices, engine: engine, requestID: requestID, apiKeyID: apiKeyID)
      throw .unavailable("The request was cancelled before it finished.")
    }
    if let failed = choices.first(where: { $0.completion?.finishReason == .error }) {
      server.recordUsage(plan: plan, choices: choices, status: 500, requestID: requestID, apiKeyID: apiKeyID)
      throw .internal("Generation failed: \(failed.completion?.error ?? "unknown error")")
    }
    server.recordUsage(plan: plan, choices: choices, status: 200, requestID: requestID, apiKeyID: apiKeyID)
    return ResponseBuilder(plan: plan).whole(choices)
  }

  /// The client left: cancel what still runs, count it as aborted, and record the usage so far.
  private func abandon(
    plan: GenerationPlan, choices: [ChoiceAccumulator], engine: any ServingEngine, requestID: String, apiKeyID: String?
  ) {
    for r in plan.requests { engine.cancel(r.id) }
    server.metrics.observeAbandoned(choices.filter { $0.completion == nil }.count)
    server.recordUsage(plan: plan, choices: choices, status: 499, requestID: requestID, apiKeyID: apiKeyID)
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

  private func stream(
    plan: GenerationPlan, streams: ChoiceStreams, engine: any ServingEngine, writer: inout any ResponseBodyWriter,
    requestID: String, apiKeyID: String?
  ) async throws {
    let builder = ResponseBuilder(plan: plan)
    var choices = Array(repeating: ChoiceAccumulator(), count: plan.requests.count)
    do {
      for choice in choices.indices {
        if let opening = builder.openingChunk(choice: choice) { try await writer.write(ByteBuffer(bytes: opening)) }
      }
      for await (choice, event) in streams.events {
        let offset = choices[choice].text.count
        consume(event, choice: choice, into: &choices)
        let chunk: Data?
        switch event {
        case .token(let t): chunk = builder.tokenChunk(t, choice: choice, textOffset: offset)
        case .finished(let c): chunk = builder.finalChunk(c, choice: choice)
        }
        if let chunk { try await writer.write(ByteBuffer(bytes: chunk)) }
      }
      if plan.includeUsage { try await writer.write(ByteBuffer(bytes: builder.usageChunk(choices))) }
      try await writer.write(ByteBuffer(bytes: SSEEncoder.done))
      try await writer.finish(nil)
    } catch {
      // Writing failed: the client went away. Stop its generations now rather than at the next token.
      abandon(plan: plan, choices: choices, engine: engine, requestID: requestID, apiKeyID: apiKeyID)
      throw error
    }
    let complete = choices.allSatisfy { $0.completion != nil }
    server.recordUsage(
      plan: plan, choices: choices, status: complete ? 200 : 499, requestID: requestID, apiKeyID: apiKeyID)
  }
}
