import Engine
import Foundation
import HTTPTypes
import Hummingbird

/// Every route of the server on one router.
enum Routes {
  static func router(_ server: ServerContext) -> Router<ServerRequestContext> {
    let router = Router(context: ServerRequestContext.self)
    let auth = server.keys
    if !server.configuration.corsOrigins.isEmpty {
      router.add(middleware: CrossOriginMiddleware(origins: server.configuration.corsOrigins))
    }
    router.add(middleware: ServerMiddleware(server: server, auth: auth))
    let handler = CompletionHandler(server: server)

    router.post("/v1/chat/completions") { request, context in
      var (body, raw, document) = try await RequestBodyReader.decodeKeepingBody(
        ChatCompletionRequest.self, from: request, limit: server.configuration.maxBodyBytes,
        timeoutSeconds: Int(server.configuration.bodyTimeout.components.seconds))
      body.ordered = ChatCompletionRequest.ordered(raw, document: document)
      let (engine, model) = try server.host.ready()
      var caller = caller(request, context, server)
      if body.store == true { caller.body = raw }
      let plan = try mapper(model, caller, server).plan(body, id: "chatcmpl-" + shortID())
      return try await handler.respond(plan: plan, engine: engine, caller: caller)
    }
    router.post("/v1/completions") { request, context in
      let body = try await decode(CompletionRequest.self, request, server)
      let (engine, model) = try server.host.ready()
      var caller = caller(request, context, server)
      var plan = try mapper(model, caller, server).plan(body, id: "cmpl-" + shortID())
      if case .tokens(let lists) = body.prompt, plan.echoTexts != nil {
        plan.echoTexts = lists.map { engine.tokenizer.decode($0, special: false) }
      }
      return try await handler.respond(plan: plan, engine: engine, caller: caller)
    }
    router.get("/v1/models") { _, _ in
      Response.json(ModelList(data: [modelEntry(server)]))
    }
    router.get("/v1/models/{id}") { _, context in
      let id = context.parameters.get("id") ?? ""
      guard id == server.configuration.modelName || server.configuration.modelAliases.contains(id) else {
        throw APIError.modelNotFound(id, served: server.configuration.modelName)
      }
      return Response.json(modelEntry(server))
    }
    router.post("/tokenize") { request, _ in
      let body = try await decode(TokenizeRequest.self, request, server)
      let (engine, context) = try server.host.ready()
      if let requested = body.model, !context.accepts(model: requested) {
        throw APIError.modelNotFound(requested, served: context.name)
      }
      let ids: [Int32]
      if let messages = body.messages {
        let chat = ChatCompletionRequest(messages: messages)
        ids = try RequestMapper(model: context).plan(chat, id: "tok").requests[0].promptIDs
      } else if let text = body.prompt ?? body.content {
        ids = engine.tokenizer.encode(text, addSpecial: body.addSpecialTokens ?? true, parseSpecial: true)
      } else {
        throw APIError.invalidParameter("prompt", "Send 'prompt' (or 'content') text or 'messages' to tokenize.")
      }
      return Response.json(TokenizeResponse(tokens: ids, count: ids.count, maxModelLen: context.contextLength))
    }
    router.post("/detokenize") { request, _ in
      let body = try await decode(DetokenizeRequest.self, request, server)
      let (engine, context) = try server.host.ready()
      if let bad = body.tokens.first(where: { $0 < 0 || Int($0) >= context.vocabularySize }) {
        throw APIError.invalidParameter(
          "tokens", "Token id \(bad) is outside the vocabulary (0..<\(context.vocabularySize)).")
      }
      let text = engine.tokenizer.decode(body.tokens, special: false)
      return Response.json(DetokenizeResponse(prompt: text, content: text))
    }
    router.get("/health") { _, _ in
      switch server.host.state {
      case .loading: return Response.json(["status": "loading"], status: 503)
      case .failed(let why): return Response.json(["status": "error", "message": why], status: 503)
      case .draining: return Response.json(["status": "draining"], status: 503)
      case .ready: return Response.json(["status": "ok"])
      }
    }
    router.get("/status") { _, _ in
      Response.json(ServerStatus(server))
    }
    // Load balancers often probe with HEAD: the same status, no body.
    router.head("/health") { _, _ in
      var ready = false
      if case .ready = server.host.state { ready = true }
      return Response(status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"])
    }
    router.get("/version") { _, _ in
      Response.json(["version": server.configuration.version, "name": "peregrine"])
    }
    router.get("/metrics") { _, _ in
      let engine = server.host.engineIfReady
      let text =
        server.metrics.render(statistics: engine?.statistics(), configuration: engine?.engineConfiguration)
        + server.metering.metricsText(modelName: server.configuration.modelName)
      return Response(
        status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
        body: .init(byteBuffer: ByteBuffer(string: text)))
    }
    router.get("/openapi.json") { _, _ in
      Response.json(Data(OpenAPIDocument.json.utf8))
    }
    addWorkerRoutes(to: router, server)
    addEconomics(to: router, server)
    addFiles(to: router, server)
    addBatches(to: router, server)
    addAnthropic(to: router, server, handler: handler)
    addResponses(to: router, server, handler: handler)
    addOllama(to: router, server, handler: handler)
    addStats(to: router, server)
    if server.configuration.webUI { addWeb(to: router, server) }
    return router
  }

  private static func modelEntry(_ server: ServerContext) -> ModelList.Entry {
    .init(
      id: server.configuration.modelName, created: server.host.created,
      maxModelLen: server.host.contextIfLoaded?.contextLength)
  }

  /// Who sent the request, and the watch on its connection.
  static func caller(_ request: Request, _ context: ServerRequestContext, _ server: ServerContext)
    -> CompletionHandler.Caller
  {
    let noCache = request.headers[.cacheControl]?.lowercased().contains("no-cache") ?? false
    return .init(
      requestID: context.requestID, principal: context.principal,
      watch: server.connections.watch(for: context.channel), outcome: context.outcome, bypassCache: noCache)
  }

  /// Request mapping for this caller: its prefix-cache namespace comes from its key.
  static func mapper(_ model: ModelContext, _ caller: CompletionHandler.Caller, _ server: ServerContext)
    -> RequestMapper
  {
    var m = RequestMapper(model: model)
    m.cacheNamespace = server.keys.cacheNamespace(keyID: caller.apiKeyID)
    return m
  }

  static func decode<T: Decodable>(_ type: T.Type, _ request: Request, _ server: ServerContext) async throws
    -> T
  {
    try await RequestBodyReader.decode(
      type, from: request, limit: server.configuration.maxBodyBytes,
      timeoutSeconds: Int(server.configuration.bodyTimeout.components.seconds))
  }

  /// A random id suffix, compact like OpenAI's.
  static func shortID() -> String {
    UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
  }
}
