import Foundation

/// Splits the machine's running time among the requests in flight: while n requests run, each is
/// charged 1/n of every second (processor sharing). A request's share is the growth of a virtual
/// clock between its start and end, so the bookkeeping is O(1) per request.
final class MachineCostClock: Sendable {
  private struct State {
    var inFlight = 0
    /// Seconds of machine time each in-flight request has been charged since start.
    var virtual = 0.0
    /// Wall seconds with at least one request in flight.
    var busy = 0.0
    var last: Double
  }

  private let state: LockedBox<State>
  private let now: @Sendable () -> Double

  init(now: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }) {
    self.now = now
    state = LockedBox(State(last: now()))
  }

  /// A request starts; keep the returned mark for `end`.
  func begin() -> Double {
    let t = now()
    return state.withLock { s in
      Self.advance(&s, to: t)
      s.inFlight += 1
      return s.virtual
    }
  }

  /// The request that began at `mark` ends: its share of machine seconds.
  func end(_ mark: Double) -> Double {
    let t = now()
    return state.withLock { s in
      Self.advance(&s, to: t)
      s.inFlight = max(0, s.inFlight - 1)
      return max(0, s.virtual - mark)
    }
  }

  /// Wall seconds during which the machine served at least one request.
  var busySeconds: Double {
    let t = now()
    return state.withLock { s in
      Self.advance(&s, to: t)
      return s.busy
    }
  }

  private static func advance(_ s: inout State, to t: Double) {
    let dt = max(0, t - s.last)
    if s.inFlight > 0 {
      s.virtual += dt / Double(s.inFlight)
      s.busy += dt
    }
    s.last = t
  }
}
