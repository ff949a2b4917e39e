import Accounts
import Hummingbird
import NIOCore

/// Per-request state the middleware hands to routes.
struct ServerRequestContext: RequestContext {
  var coreContext: CoreRequestContextStorage
  /// The client's `X-Request-Id`, or one made up for it; echoed on the response and stored with usage.
  var requestID = ""
  /// The connection the request came on (to find its `ConnectionWatch`).
  let channel: any Channel
  /// Who the request runs as (set by the middleware on every non-public route).
  var principal: Principal = .open
  /// Lets a streamed response report its own status when its body ends.
  var outcome = ResponseOutcome()

  init(source: Source) {
    coreContext = .init(source: source)
    channel = source.channel
  }
}

/// Who reports a response's status to the metrics: the middleware when the handler returns, or the
/// handler itself when the status is only known after the body is sent (a stream whose client may
/// leave, 499).
final class ResponseOutcome: Sendable {
  private let deferred = LockedBox(false)

  var isDeferred: Bool { deferred.current }

  /// The handler reports the status itself, after the body.
  func `defer`() { deferred.withLock { $0 = true } }
}
