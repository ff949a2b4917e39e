import NIOCore

/// Whether the client of one HTTP connection is still there. HTTP/1 has no cancel message: a
/// client that gives up closes its socket, which the connection's guard sees at once as end of
/// input or a closed channel, whatever the handler is doing. Handlers register what to stop
/// (`onLeave`) for as long as their work runs.
final class ConnectionWatch: Sendable {
  private struct State {
    var gone = false
    var nextToken = 0
    var actions: [Int: @Sendable () -> Void] = [:]
  }

  private let state = LockedBox(State())
  /// Closes the connection (a stalled reader is dropped); nil in tests without a channel.
  private let closeChannel: (@Sendable () -> Void)?

  init(close: (@Sendable () -> Void)? = nil) {
    closeChannel = close
  }

  var isGone: Bool { state.current.gone }

  /// Marks the client as gone and runs every registered action once; later calls do nothing.
  func clientLeft() {
    let actions = state.withLock { s -> [@Sendable () -> Void] in
      guard !s.gone else { return [] }
      s.gone = true
      defer { s.actions = [:] }
      return Array(s.actions.values)
    }
    for action in actions { action() }
  }

  /// Runs `action` when the client leaves (at once if it already has). Returns a token for `remove`.
  @discardableResult
  func onLeave(_ action: @escaping @Sendable () -> Void) -> Int {
    let (token, runNow) = state.withLock { s -> (Int, Bool) in
      s.nextToken += 1
      if !s.gone { s.actions[s.nextToken] = action }
      return (s.nextToken, s.gone)
    }
    if runNow { action() }
    return token
  }

  /// Forgets an action registered with `onLeave` (the work it would stop is done).
  func remove(_ token: Int) {
    state.withLock { _ = $0.actions.removeValue(forKey: token) }
  }

  /// Gives up on the client (a reader that stopped reading): closes the connection.
  func drop() {
    closeChannel?()
    clientLeft()
  }
}
