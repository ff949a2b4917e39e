import Engine
import Foundation

/// An error as OpenAI reports it: an HTTP status and `{"error": {"message", "type", "param", "code"}}`.
struct APIError: Error, Sendable, Equatable {
  var status: Int
  var message: String
  var type: String
  var param: String?
  var code: String?
  /// Seconds for a `Retry-After` header (429, 503).
  var retryAfter: Int?
  /// Answer with `Connection: close` (the request's body was not read to its end).
  var closesConnection = false
  /// Extra response headers (the `x-ratelimit-*` of a 429).
  var headers: [String: String] = [:]

  static func invalidParameter(_ param: String?, _ message: String) -> APIError {
    APIError(status: 400, message: message, type: "invalid_request_error", param: param, code: "invalid_value")
  }

  static func unauthorized() -> APIError {
    APIError(
      status: 401, message: "Incorrect API key provided. Send it as 'Authorization: Bearer <key>'.",
      type: "invalid_request_error", param: nil, code: "invalid_api_key")
  }

  static func modelNotFound(_ requested: String, served: String) -> APIError {
    APIError(
      status: 404, message: "The model '\(requested)' does not exist; this server serves '\(served)'.",
      type: "invalid_request_error", param: "model", code: "model_not_found")
  }

  static func notFound(_ path: String) -> APIError {
    APIError(
      status: 404, message: "No route for \(path).", type: "invalid_request_error", param: nil, code: "not_found")
  }

  static func loading() -> APIError {
    APIError(
      status: 503, message: "The model is still loading; retry shortly.", type: "server_error", param: nil,
      code: "model_loading", retryAfter: 1)
  }

  static func unavailable(_ why: String) -> APIError {
    APIError(status: 503, message: why, type: "server_error", param: nil, code: "unavailable", retryAfter: 5)
  }

  static func tooLarge(limit: Int) -> APIError {
    APIError(
      status: 413, message: "The request body is larger than the limit of \(limit) bytes.",
      type: "invalid_request_error", param: nil, code: "request_too_large")
  }

  static func bodyTimeout(seconds: Int) -> APIError {
    var e = APIError.invalidParameter(
      nil, "The request body stopped arriving before its end (nothing for \(seconds) s); send the whole body.")
    e.code = "body_timeout"
    e.closesConnection = true
    return e
  }

  static func `internal`(_ why: String) -> APIError {
    APIError(status: 500, message: why, type: "server_error", param: nil, code: "internal_error")
  }

  /// The JSON body.
  var body: Data {
    struct Inner: Encodable {
      var message: String
      var type: String
      var param: String?
      var code: String?
      func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(message, forKey: .message)
        try c.encode(type, forKey: .type)
        // OpenAI sends these keys as null rather than leaving them out.
        try c.encode(param, forKey: .param)
        try c.encode(code, forKey: .code)
      }
      enum CodingKeys: String, CodingKey { case message, type, param, code }
    }
    struct Outer: Encodable { var error: Inner }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? encoder.encode(Outer(error: Inner(message: message, type: type, param: param, code: code)))) ?? Data()
  }

  /// Turns a JSON decoding failure into a 400 naming the parameter at fault.
  static func decoding(_ error: DecodingError) -> APIError {
    func path(_ context: DecodingError.Context, extra: String? = nil) -> String? {
      var parts: [String] = []
      for key in context.codingPath {
        if let i = key.intValue {
          parts.append("[\(i)]")
        } else {
          parts.append((parts.isEmpty ? "" : ".") + key.stringValue)
        }
      }
      if let extra { parts.append((parts.isEmpty ? "" : ".") + extra) }
      let p = parts.joined()
      return p.isEmpty ? nil : p
    }
    switch error {
    case .keyNotFound(let key, let context):
      let p = path(context, extra: key.stringValue)
      return .invalidParameter(p, "'\(p ?? key.stringValue)' is required.")
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
      let p = path(context)
      return .invalidParameter(p, "'\(p ?? "body")' has the wrong type: \(context.debugDescription)")
    case .dataCorrupted(let context):
      let p = path(context)
      if p == nil { return .invalidParameter(nil, "The body is not valid JSON: \(context.debugDescription)") }
      return .invalidParameter(p, "'\(p!)' is invalid: \(context.debugDescription)")
    @unknown default:
      return .invalidParameter(nil, "The body could not be decoded.")
    }
  }
}

extension APIError {
  /// The client-facing form of an engine refusal.
  init(_ error: EngineError) {
    switch error {
    case .invalidParameters(let why):
      self = .invalidParameter(nil, why)
    case .promptTooLong:
      self = APIError(
        status: 400, message: error.description, type: "invalid_request_error", param: "messages",
        code: "context_length_exceeded")
    case .exceedsCacheCapacity:
      self = APIError(
        status: 400, message: error.description, type: "invalid_request_error", param: nil,
        code: "context_length_exceeded")
    case .queueFull(_, let retry):
      self = APIError(
        status: 429, message: error.description, type: "rate_limit_error", param: nil, code: "queue_full",
        retryAfter: max(1, retry))
    case .duplicateRequestID:
      self = .invalidParameter("X-Request-Id", error.description)
    case .shuttingDown:
      self = .unavailable(error.description)
    }
  }
}
