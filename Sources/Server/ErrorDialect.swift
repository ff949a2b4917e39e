import Foundation

/// Which API's error shape a route answers in: clients parse errors in their own dialect only (the
/// `anthropic` SDK reads `error.type`, `ollama` raises on a top-level `error` string).
enum ErrorDialect: Sendable, Equatable {
  /// `{"error": {"message", "type", "param", "code"}}` (Chat Completions, Completions, Responses).
  case openAI
  /// `{"type": "error", "error": {"type", "message"}}`.
  case anthropic
  /// `{"error": "message"}`.
  case ollama

  static func of(path: String) -> ErrorDialect {
    if path == "/v1/messages" || path.hasPrefix("/v1/messages/") { return .anthropic }
    if path.hasPrefix("/api/") { return .ollama }
    return .openAI
  }
}

extension APIError {
  /// The JSON body in `dialect`'s shape.
  func body(in dialect: ErrorDialect) -> Data {
    switch dialect {
    case .openAI: return body
    case .anthropic:
      // Anthropic clients send the key as `x-api-key`: say so rather than OpenAI's header.
      let text = status == 401 ? "Invalid API key. Send it as 'x-api-key: <key>' (or 'Authorization: Bearer <key>')." : message
      return SSEEncoder.json(AnthropicErrorBody(error: .init(type: anthropicType, message: text)))
    case .ollama:
      return SSEEncoder.json(["error": message])
    }
  }

  /// Anthropic's error `type` for this status (docs.anthropic.com, "Errors").
  var anthropicType: String {
    switch status {
    case 401: "authentication_error"
    case 403: "permission_error"
    case 404: "not_found_error"
    case 413: "request_too_large"
    case 429: "rate_limit_error"
    case 503, 529: "overloaded_error"
    case 400..<500: "invalid_request_error"
    default: "api_error"
    }
  }
}

/// Anthropic's error object, also sent as the `error` event of a stream that fails.
struct AnthropicErrorBody: Encodable {
  struct Inner: Encodable {
    var type: String
    var message: String
  }

  var type = "error"
  var error: Inner
}
