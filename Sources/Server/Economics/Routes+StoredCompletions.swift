import Accounts
import Foundation
import Hummingbird

/// OpenAI's stored chat completions: what a caller kept with `store: true`, readable and deletable
/// by that caller only.
extension Routes {
  static func addStoredCompletions(to router: Router<ServerRequestContext>, _ server: ServerContext) {
    router.get("/v1/chat/completions") { request, context in
      let store = try completions(server)
      let query = request.uri.queryParameters
      let limit = query["limit"].flatMap { Int($0) } ?? 20
      guard (1...100).contains(limit) else { throw APIError.invalidParameter("limit", "'limit' must be 1–100.") }
      let order = query["order"].map(String.init) ?? "asc"
      guard order == "asc" || order == "desc" else {
        throw APIError.invalidParameter("order", "'order' must be asc or desc.")
      }
      let page = try store.list(
        principal: context.principal.id, after: query["after"].map(String.init), limit: limit + 1,
        newestFirst: order == "desc", model: query["model"].map(String.init))
      let items = page.prefix(limit).map(object)
      let body: [String: Any] = [
        "object": "list", "data": Array(items), "first_id": page.first?.id ?? NSNull(),
        "last_id": page.prefix(limit).last?.id ?? NSNull(), "has_more": page.count > limit,
      ]
      return Response.json(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]))
    }
    router.get("/v1/chat/completions/{id}") { _, context in
      let stored = try find(context, server)
      return Response.json(try JSONSerialization.data(withJSONObject: object(stored), options: [.sortedKeys]))
    }
    router.get("/v1/chat/completions/{id}/messages") { _, context in
      let stored = try find(context, server)
      let request = (try? JSONSerialization.jsonObject(with: Data(stored.request.utf8))) as? [String: Any]
      let messages = (request?["messages"] as? [Any] ?? []).enumerated().map { i, m -> Any in
        var message = m as? [String: Any] ?? [:]
        message["id"] = "\(stored.id)-\(i)"
        return message
      }
      let body: [String: Any] = ["object": "list", "data": messages, "has_more": false]
      return Response.json(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]))
    }
    router.delete("/v1/chat/completions/{id}") { _, context in
      let id = context.parameters.get("id") ?? ""
      guard try await completions(server).delete(id: id, principal: context.principal.id) else {
        throw notFound(id)
      }
      return Response.json(DeletedObject(object: "chat.completion.deleted", id: id))
    }
  }

  private static func completions(_ server: ServerContext) throws(APIError) -> CompletionStore {
    guard let accounts = server.accounts else {
      throw APIError(
        status: 404, message: "This server stores nothing (--usage-db none).", type: "invalid_request_error",
        param: nil, code: "not_found")
    }
    return CompletionStore(accounts)
  }

  private static func find(_ context: ServerRequestContext, _ server: ServerContext) throws -> StoredCompletion {
    let id = context.parameters.get("id") ?? ""
    guard let stored = try completions(server).get(id: id, principal: context.principal.id) else { throw notFound(id) }
    return stored
  }

  private static func notFound(_ id: String) -> APIError {
    APIError(
      status: 404, message: "No stored chat completion '\(id)' (only completions created with store: true, by this key).",
      type: "invalid_request_error", param: nil, code: "not_found")
  }

  /// The stored response with its `metadata`, as OpenAI returns a stored completion.
  private static func object(_ stored: StoredCompletion) -> [String: Any] {
    var body = (try? JSONSerialization.jsonObject(with: Data(stored.response.utf8))) as? [String: Any] ?? [:]
    body["metadata"] = stored.metadata.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } ?? [:]
    body["request_id"] = stored.id
    return body
  }
}
