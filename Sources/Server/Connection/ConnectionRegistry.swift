import NIOCore

/// Every open HTTP connection, shared by the connections' guards and the routes: the cap on open
/// connections, each connection's `ConnectionWatch`, and counts for `/metrics`.
final class ConnectionRegistry: Sendable {
  struct Counts: Sendable, Equatable {
    var open = 0
    var refused = 0
    /// Connections the guard closed, by `ConnectionDeadlines.CloseReason` raw value.
    var closed: [String: Int] = [:]
  }

  let maxConnections: Int
  let limits: ConnectionLimits
  private let state = LockedBox((counts: Counts(), watches: [ObjectIdentifier: ConnectionWatch]()))

  init(maxConnections: Int, limits: ConnectionLimits) {
    self.maxConnections = maxConnections
    self.limits = limits
  }

  var counts: Counts { state.current.counts }

  /// Admits a new connection unless `maxConnections` are open; the admitted one must `close` later.
  func open(_ channel: any Channel, watch: ConnectionWatch) -> Bool {
    state.withLock { s in
      guard s.counts.open < maxConnections else {
        s.counts.refused += 1
        return false
      }
      s.counts.open += 1
      s.watches[ObjectIdentifier(channel)] = watch
      return true
    }
  }

  func close(_ channel: any Channel) {
    state.withLock { s in
      if s.watches.removeValue(forKey: ObjectIdentifier(channel)) != nil { s.counts.open -= 1 }
    }
  }

  func record(_ reason: ConnectionDeadlines.CloseReason) {
    state.withLock { $0.counts.closed[reason.rawValue, default: 0] += 1 }
  }

  /// The watch of the connection a request arrived on; nil outside a live server (in-process tests).
  func watch(for channel: any Channel) -> ConnectionWatch? {
    state.current.watches[ObjectIdentifier(channel)]
  }
}
