import Foundation
import HTTPTypes
import Hummingbird
import Logging

extension HTTPField.Name {
  static let requestID = HTTPField.Name("X-Request-Id")!
  /// Anthropic's header for the API key, accepted like `Authorization: Bearer`.
  static let xAPIKey = HTTPField.Name("x-api-key")!
}

/// Outermost middleware: gives every request an id (the client's `X-Request-Id`, or a new one) and
/// echoes it, checks the API key on the API routes, and turns every error into the JSON shape of
/// the route's API (OpenAI's, Anthropic's or Ollama's).
struct ServerMiddleware: RouterMiddleware {
  typealias Context = ServerRequestContext
  let server: ServerContext
  let auth: APIKeyCheck

  /// Routes anyone may read: probes, metrics scrapers and API discovery carry no key.
  static func isPublic(_ path: String) -> Bool {
    ["/health", "/metrics", "/version", "/api/version", "/openapi.json", "/", "/v1/stats"].contains(path)
      || Routes.publicWorkerPaths.contains(path) || Routes.isWebPath(path)
  }

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
    -> Response
  {
    var context = context
    let incoming = request.headers[.requestID].flatMap { $0.isEmpty || $0.utf8.count > 200 ? nil : $0 }
    let requestID = incoming ?? "req-" + UUID().uuidString.lowercased()
    context.requestID = requestID
    var response: Response
    let dialect = ErrorDialect.of(path: request.uri.path)
    do {
      if !Self.isPublic(request.uri.path) {
        context.principal = try server.metering.authenticate(
          authorization: request.headers[.authorization], apiKeyHeader: request.headers[.xAPIKey],
          clientAddress: context.channel.remoteAddress?.ipAddress)
      }
      response = try await next(request, context)
    } catch let error as APIError {
      response = Self.response(error, dialect: dialect)
    } catch let error as HTTPError {
      response = Self.response(
        Self.translate(
          error, path: request.uri.path, method: request.method, limit: server.configuration.maxBodyBytes,
          webUI: server.configuration.webUI),
        dialect: dialect)
      if response.status.code == 405,
        let allow = Routes.allowedMethods(for: request.uri.path, webUI: server.configuration.webUI)
      {
        response.headers[.allow] = allow
      }
    } catch {
      if error is ClientGone || clientLeft(context) {
        response = Response(status: .init(code: 499))
      } else {
        server.logger.error("request \(requestID) failed: \(error)")
        response = Self.response(.internal("Internal error: \(error)"), dialect: dialect)
      }
    }
    var reportedByHandler = context.outcome.isDeferred
    if response.status.code != 499, clientLeft(context) {
      // Its own outcome, whatever the handler made of the half-read request: nobody can read the answer.
      response = Response(status: .init(code: 499))
      reportedByHandler = false
    }
    if response.status.code == 499 {
      server.logger.info("request \(requestID): the client closed the connection before the response")
    }
    response.headers[.requestID] = requestID
    if !reportedByHandler { server.metrics.observeResponse(status: Int(response.status.code)) }
    return response
  }

  private func clientLeft(_ context: Context) -> Bool {
    server.connections.watch(for: context.channel)?.isGone == true
  }

  static func translate(_ error: HTTPError, path: String, method: HTTPRequest.Method, limit: Int, webUI: Bool = false)
    -> APIError
  {
    switch error.status.code {
    case 404, 405:
      // The router has no route for this method; if the path exists under another one, say so.
      guard let allow = Routes.allowedMethods(for: path, webUI: webUI) else { return .notFound(path) }
      return APIError(
        status: 405, message: "\(method) is not allowed on \(path); use \(allow).", type: "invalid_request_error",
        param: nil, code: "method_not_allowed")
    case 413: return .tooLarge(limit: limit)
    case 400..<500:
      return APIError(
        status: Int(error.status.code), message: error.body ?? error.status.reasonPhrase,
        type: "invalid_request_error", param: nil, code: nil)
    default: return .internal(error.body ?? error.status.reasonPhrase)
    }
  }

  static func response(_ error: APIError, dialect: ErrorDialect = .openAI) -> Response {
    var headers: HTTPFields = [.contentType: "application/json"]
    if let retry = error.retryAfter { headers[.retryAfter] = String(retry) }
    // The unread rest of an oversized or timed-out body would otherwise be the next request on this
    // connection; the connection guard closes it once the response is out.
    if error.status == 413 || error.closesConnection { headers[.connection] = "close" }
    for (name, value) in error.headers {
      if let field = HTTPField.Name(name) { headers[field] = value }
    }
    return Response(
      status: .init(code: error.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: error.body(in: dialect))))
  }
}

extension Response {
  /// A JSON response from already-encoded bytes.
  static func json(_ data: Data, status: Int = 200, headers: HTTPFields = [:]) -> Response {
    var fields = headers
    fields[.contentType] = "application/json"
    return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
  }

  static func json(_ value: some Encodable, status: Int = 200) -> Response {
    json(SSEEncoder.json(value), status: status)
  }
}
