import Engine

/// The engine streams of one HTTP request's choices, merged into one stream of (choice, event).
/// Ending the merged stream early (client gone, handler cancelled) cancels every unfinished choice.
///
/// Events wait here while the response writer is blocked by a client that does not read; past
/// `backlogLimit` bytes of them `onOverflow` runs once (the handler drops the client), so a
/// stalled reader costs bounded memory.
struct ChoiceStreams: Sendable {
  let events: AsyncStream<(choice: Int, event: EngineEvent)>
  private let backlog: LockedBox<Int>

  /// Submits every request of `plan` as one group (it counts once against the engine's queue);
  /// a refusal is thrown and nothing runs.
  init(
    plan: GenerationPlan, engine: any ServingEngine, backlogLimit: Int = .max,
    onOverflow: @escaping @Sendable () -> Void = {}
  ) throws(EngineError) {
    let streams = try engine.submit(plan.requests)
    let ids = plan.requests.map(\.id)
    let backlog = LockedBox(0)
    let overflowed = LockedBox(false)
    let (merged, continuation) = AsyncStream<(choice: Int, event: EngineEvent)>.makeStream(bufferingPolicy: .unbounded)
    let pump = Task {
      await withTaskGroup(of: Void.self) { group in
        for (i, stream) in streams.enumerated() {
          group.addTask {
            for await event in stream {
              let size = Self.size(of: event)
              let over = backlog.withLock { b -> Bool in
                b += size
                return b > backlogLimit
              }
              continuation.yield((i, event))
              if over && overflowed.withLock({ o in defer { o = true }; return !o }) { onOverflow() }
            }
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
    self.backlog = backlog
  }

  /// The reader took `event` off the stream: it no longer counts against the backlog.
  func consumed(_ event: EngineEvent) {
    let size = Self.size(of: event)
    backlog.withLock { $0 -= size }
  }

  /// Roughly what an event costs to hold and to send: its text, log-probabilities and framing.
  static func size(of event: EngineEvent) -> Int {
    switch event {
    case .token(let t):
      return 96 + t.text.utf8.count + (t.logprob == nil ? 0 : 64) + t.topLogprobs.count * 64
    case .finished: return 256
    }
  }
}
