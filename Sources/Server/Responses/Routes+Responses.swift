import Accounts
import Foundation
import Hummingbird

/// OpenAI's Responses API: stateless, or stateful through the response store (`store`, default
/// true, and `previous_response_id`), which keeps each response for the key that made it.
extension Routes {
  static func addResponses(to router: Router<ServerRequestContext>, _ server: ServerContext, handler: CompletionHandler) {
    router.post("/v1/responses") { request, context in
      let body = try await decode(ResponsesRequest.self, request, server)
      let (engine, model) = try server.host.ready()
      let caller = caller(request, context, server)
      let previous = try previousConversation(body.previousResponseID, principal: context.principal.id, server)
      let mapped = try ResponsesMapper(base: mapper(model, caller, server)).plan(
        body, previous: previous, id: "resp_" + shortID(), canStore: server.accounts != nil)
      return try await handler.respond(plan: mapped.plan, engine: engine, caller: caller) {
        ResponsesShape(plan: $0, mapped: mapped)
      }
    }
    router.post("/v1/responses/input_tokens") { request, context in
      let body = try await decode(ResponsesRequest.self, request, server)
      let (_, model) = try server.host.ready()
      let previous = try previousConversation(body.previousResponseID, principal: context.principal.id, server)
      let ids = try ResponsesMapper(base: RequestMapper(model: model)).promptIDs(body, previous: previous)
      return Response.json(InputTokensResponse(inputTokens: ids.count))
    }
    router.get("/v1/responses/{id}") { _, context in
      let id = context.parameters.get("id") ?? ""
      return Response.json(Data(try stored(id, principal: context.principal.id, server).response.utf8))
    }
    router.delete("/v1/responses/{id}") { _, context in
      let id = context.parameters.get("id") ?? ""
      guard let accounts = server.accounts, try ResponseStore(accounts).delete(id: id, principal: context.principal.id)
      else { throw responseNotFound(id) }
      return Response.json(ResponseDeleted(id: id))
    }
  }

  /// One of the caller's stored responses, or 404 (also on a server that keeps none).
  private static func stored(_ id: String, principal: String, _ server: ServerContext) throws -> StoredResponse {
    guard let accounts = server.accounts, let r = try ResponseStore(accounts).get(id: id, principal: principal) else {
      throw responseNotFound(id)
    }
    return r
  }

  /// The conversation a `previous_response_id` continues (none without one).
  private static func previousConversation(_ id: String?, principal: String, _ server: ServerContext) throws
    -> [ResponseItem]
  {
    guard let id else { return [] }
    guard let accounts = server.accounts, let r = try ResponseStore(accounts).get(id: id, principal: principal) else {
      throw APIError(
        status: 404, message: "Previous response with id '\(id)' not found.", type: "invalid_request_error",
        param: "previous_response_id", code: "previous_response_not_found")
    }
    do {
      return try JSONDecoder().decode([ResponseItem].self, from: Data(r.conversation.utf8))
    } catch {
      throw APIError.internal("The stored conversation of '\(id)' cannot be read: \(error)")
    }
  }

  private static func responseNotFound(_ id: String) -> APIError {
    APIError(
      status: 404, message: "Response with id '\(id)' not found.", type: "invalid_request_error", param: nil,
      code: "not_found")
  }
}
