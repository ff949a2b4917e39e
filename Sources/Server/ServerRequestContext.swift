import Hummingbird

/// Per-request state the middleware hands to routes.
struct ServerRequestContext: RequestContext {
  var coreContext: CoreRequestContextStorage
  /// The client's `X-Request-Id`, or one made up for it; echoed on the response and stored with usage.
  var requestID = ""

  init(source: Source) {
    coreContext = .init(source: source)
  }
}
