import Engine

/// The engine streams of one HTTP request's choices, merged into one stream of (choice, event).
/// Ending the merged stream early (client gone, handler cancelled) cancels every unfinished choice.
struct ChoiceStreams: Sendable {
  let events: AsyncStream<(choice: Int, event: EngineEvent)>

  /// Submits every request of `plan`; if one is refused, the ones already running are cancelled
  /// and the refusal is thrown.
  init(plan: GenerationPlan, engine: any ServingEngine) throws(EngineError) {
    var streams: [AsyncStream<EngineEvent>] = []
    for request in plan.requests {
      do {
        streams.append(try engine.submit(request))
      } catch {
        for r in plan.requests.prefix(streams.count) { engine.cancel(r.id) }
        throw error
      }
    }
    let ids = plan.requests.map(\.id)
    let (merged, continuation) = AsyncStream<(choice: Int, event: EngineEvent)>.makeStream(bufferingPolicy: .unbounded)
    let pump = Task {
      await withTaskGroup(of: Void.self) { group in
        for (i, stream) in streams.enumerated() {
          group.addTask {
            for await event in stream { continuation.yield((i, event)) }
          }
        }
      }
      continuation.finish()
    }
    continuation.onTermination = { reason in
      if case .cancelled = reason {
        pump.cancel()
        for id in ids { engine.cancel(id) }
      }
    }
    events = merged
  }
}
