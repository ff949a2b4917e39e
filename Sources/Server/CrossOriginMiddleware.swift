import HTTPTypes
import Hummingbird

/// CORS for browser front-ends (`--cors-origin`, off unless given). Outermost, so a preflight is
/// answered before the API key check: browsers send preflights without credentials.
struct CrossOriginMiddleware: RouterMiddleware {
  typealias Context = ServerRequestContext
  /// Allowed origins as the browser sends them (`https://app.example`); `*` allows any.
  let origins: [String]

  static let allowedMethods = "GET, POST, OPTIONS"
  /// Headers a browser client may send when the preflight does not list its own.
  static let allowedHeaders = "Authorization, Content-Type, X-Request-Id, X-Api-Key, Anthropic-Version"

  /// The `Access-Control-Allow-Origin` value for a request from `origin`, or nil if it is not allowed.
  func allowOrigin(for origin: String) -> String? {
    if origins.contains("*") { return "*" }
    return origins.contains(origin) ? origin : nil
  }

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
    -> Response
  {
    guard let origin = request.headers[.origin], let allowed = allowOrigin(for: origin) else {
      return try await next(request, context)
    }
    if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
      var headers: HTTPFields = [
        .accessControlAllowOrigin: allowed, .accessControlAllowMethods: Self.allowedMethods,
        .accessControlAllowHeaders: request.headers[.accessControlRequestHeaders] ?? Self.allowedHeaders,
        .accessControlMaxAge: "600",
      ]
      if allowed != "*" { headers[.vary] = "Origin" }
      return Response(status: .noContent, headers: headers)
    }
    var response = try await next(request, context)
    response.headers[.accessControlAllowOrigin] = allowed
    response.headers[.accessControlExposeHeaders] = "X-Request-Id, Retry-After"
    if allowed != "*" { response.headers[.vary] = "Origin" }
    return response
  }
}
