import Engine
import Foundation
import HTTPTypes
import Hummingbird

/// Runs a planned generation and turns engine events into OpenAI responses: one JSON body, or an
/// SSE stream of chunks ending with `data: [DONE]`.
struct CompletionHandler: Sendable {
  let server: ServerContext

  func respond(plan: GenerationPlan, engine: any ServingEngine, requestID: String, apiKeyID: String?) async throws -> Response {
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
          try await stream(plan: plan, streams: streams, engine: engine, writer: &writer, requestID: requestID, apiKeyID: apiKeyID)
        })
    }
    var choices = Array(repeating: ChoiceAccumulator(), count: plan.requests.count)
    for await (choice, event) in streams.events {
      consume(event, choice: choice, into: &choices)
    }
    let complete = choices.allSatisfy { $0.completion != nil }
    if !complete {
      // The handler was cancelled (client gone) before every choice finished.
      for r in plan.requests { engine.cancel(r.id) }
    }
    if let failed = choices.first(where: { $0.completion?.finishReason == .error }) {
      server.recordUsage(plan: plan, choices: choices, status: 500, requestID: requestID, apiKeyID: apiKeyID)
      throw APIError.internal("Generation failed: \(failed.completion?.error ?? "unknown error")")
    }
    server.recordUsage(plan: plan, choices: choices, status: complete ? 200 : 499, requestID: requestID, apiKeyID: apiKeyID)
    return .json(ResponseBuilder(plan: plan).whole(choices))
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
      for r in plan.requests { engine.cancel(r.id) }
      server.recordUsage(plan: plan, choices: choices, status: 499, requestID: requestID, apiKeyID: apiKeyID)
      throw error
    }
    let complete = choices.allSatisfy { $0.completion != nil }
    server.recordUsage(plan: plan, choices: choices, status: complete ? 200 : 499, requestID: requestID, apiKeyID: apiKeyID)
  }
}
