import Hummingbird

/// Anthropic's Messages API (`anthropic` SDK, Claude-style tools): the key may come as `x-api-key`
/// (the middleware takes it like `Authorization: Bearer`), `anthropic-version` is accepted and not
/// needed, and errors come in Anthropic's shape (`ErrorDialect`).
extension Routes {
  static func addAnthropic(to router: Router<ServerRequestContext>, _ server: ServerContext, handler: CompletionHandler) {
    router.post("/v1/messages") { request, context in
      let body = try await decode(MessagesRequest.self, request, server)
      let (engine, model) = try server.host.ready()
      let caller = caller(request, context, server)
      let plan = try MessagesMapper(base: mapper(model, caller, server)).plan(body, id: "msg_" + shortID())
      return try await handler.respond(plan: plan, engine: engine, caller: caller) { MessagesShape(plan: $0) }
    }
    router.post("/v1/messages/count_tokens") { request, context in
      let body = try await decode(MessagesRequest.self, request, server)
      let (_, model) = try server.host.ready()
      let ids = try MessagesMapper(base: RequestMapper(model: model)).promptIDs(body)
      return Response.json(MessageTokenCount(inputTokens: ids.count))
    }
  }
}
