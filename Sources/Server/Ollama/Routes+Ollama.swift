import Foundation
import Hummingbird

/// Ollama's API (`ollama` clients, Open WebUI): chat and generate with NDJSON streaming (on by
/// default, as Ollama), the model list, its description and what is loaded. Errors come as
/// `{"error": "…"}` (`ErrorDialect`); the same keys guard these routes as the others, so a client
/// sends `Authorization: Bearer` when the server has keys.
extension Routes {
  static func addOllama(to router: Router<ServerRequestContext>, _ server: ServerContext, handler: CompletionHandler) {
    router.post("/api/chat") { request, context in
      let body = try await decode(OllamaChatRequest.self, request, server)
      let (engine, model) = try server.host.ready()
      let caller = caller(request, context, server)
      let m = OllamaMapper(base: mapper(model, caller, server))
      if body.messages?.isEmpty ?? true {
        try m.checkModel(body.model)
        return Response.json(loaded(body.keepAlive, chat: true, server))
      }
      let plan = try m.plan(body, id: "ollama-" + shortID())
      return try await handler.respond(plan: plan, engine: engine, caller: caller) { OllamaShape(plan: $0) }
    }
    router.post("/api/generate") { request, context in
      let body = try await decode(OllamaGenerateRequest.self, request, server)
      let (engine, model) = try server.host.ready()
      let caller = caller(request, context, server)
      let m = OllamaMapper(base: mapper(model, caller, server))
      if body.prompt?.isEmpty ?? true {
        try m.checkModel(body.model)
        return Response.json(loaded(body.keepAlive, chat: false, server))
      }
      let plan = try m.plan(body, id: "ollama-" + shortID())
      return try await handler.respond(plan: plan, engine: engine, caller: caller) { OllamaShape(plan: $0) }
    }
    router.get("/api/tags") { _, _ in
      let (engine, _) = try server.host.ready()
      return Response.json(OllamaModelList(models: [OllamaModelEntry(server: server, model: engine.modelInfo, running: false)]))
    }
    router.get("/api/ps") { _, _ in
      let (engine, _) = try server.host.ready()
      return Response.json(OllamaModelList(models: [OllamaModelEntry(server: server, model: engine.modelInfo, running: true)]))
    }
    router.post("/api/show") { request, _ in
      let body = try await decode(OllamaShowRequest.self, request, server)
      let (engine, model) = try server.host.ready()
      try OllamaMapper(base: RequestMapper(model: model)).checkModel(body.model ?? body.name)
      return Response.json(OllamaShowResponse(server: server, context: model, model: engine.modelInfo))
    }
    router.get("/api/version") { _, _ in
      Response.json(["version": server.configuration.version])
    }
  }

  /// Ollama answers a chat without messages (or a generate without a prompt) by loading the model:
  /// it is loaded already, so this only says so (`keep_alive: 0` asks to unload, which a server of
  /// one model does not do; it says `unload` as Ollama does and stays loaded).
  private static func loaded(_ keepAlive: JSONValue?, chat: Bool, _ server: ServerContext) -> OllamaReply {
    var r = OllamaReply(model: server.configuration.modelName, chat: chat, text: "", done: true)
    r.doneReason = keepAlive == .number(0) || keepAlive == .string("0") ? "unload" : "load"
    return r
  }
}
