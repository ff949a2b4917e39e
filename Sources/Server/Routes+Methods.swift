/// Which methods each route answers, for `405 Method Not Allowed` with its `Allow` header (the
/// router alone answers a wrong method with 404, which sends a client looking for a missing route).
extension Routes {
  static let methods: [(path: String, methods: String)] = [
    ("/v1/chat/completions", "GET, POST"), ("/v1/completions", "POST"), ("/v1/models", "GET"), ("/v1/models/*", "GET"),
    // Economics (Server/Economics): exact paths before the stored-completion pattern.
    ("/v1/chat/completions/input_tokens", "POST"), ("/v1/completions/input_tokens", "POST"),
    ("/v1/chat/completions/*", "GET, DELETE"), ("/v1/usage", "GET"), ("/v1/usage/estimate", "POST"),
    ("/v1/admin/keys", "GET, POST"), ("/v1/admin/keys/*", "DELETE"), ("/v1/admin/tiers", "GET, POST"),
    // What routers read (docs/deploy.md).
    ("/get_load", "GET"), ("/server_info", "GET"), ("/get_server_info", "GET"), ("/model_info", "GET"),
    ("/get_model_info", "GET"), ("/flush_cache", "GET, POST"),
    // Batch jobs (Server/Batch).
    ("/v1/files", "GET, POST"), ("/v1/files/*", "GET, DELETE"), ("/v1/batches", "GET, POST"), ("/v1/batches/*", "GET"),
    // Other dialects (Server/Anthropic, Server/Responses, Server/Ollama): exact paths before patterns.
    ("/v1/messages", "POST"), ("/v1/messages/count_tokens", "POST"), ("/v1/responses", "POST"),
    ("/v1/responses/input_tokens", "POST"), ("/v1/responses/*", "GET, DELETE"), ("/api/chat", "POST"),
    ("/api/generate", "POST"), ("/api/tags", "GET"), ("/api/ps", "GET"), ("/api/show", "POST"), ("/api/version", "GET"),
    ("/tokenize", "POST"), ("/detokenize", "POST"), ("/health", "GET, HEAD"), ("/status", "GET"), ("/version", "GET"),
    ("/metrics", "GET"), ("/openapi.json", "GET"), ("/v1/stats", "GET"),
  ]

  /// The `Allow` value for `path`, or nil when no route has that path (the pages' routes count only
  /// when `webUI` is on: with `--no-ui` they are 404, not 405).
  static func allowedMethods(for path: String, webUI: Bool = false) -> String? {
    let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    for route in methods + (webUI ? webMethods : []) {
      if route.path.hasSuffix("/*") {
        let prefix = route.path.dropLast()
        if trimmed.hasPrefix(prefix), trimmed.count > prefix.count, !trimmed.dropFirst(prefix.count).contains("/") {
          return route.methods
        }
      } else if route.path == trimmed {
        return route.methods
      }
    }
    return nil
  }
}
