import Foundation
import Hummingbird

/// The routes a router in front of many replicas calls besides the OpenAI ones (SGLang's worker
/// endpoints; docs/deploy.md): the load `power_of_two` compares, the metadata it labels a worker
/// with, and the prefix-cache flush it fans out to every worker.
extension Routes {
  /// Read by routers without a key, like `/metrics` (which already tells as much): a router that
  /// sent its own key with every forwarded request would put all tenants in one cache namespace.
  static let publicWorkerPaths: Set<String> = [
    "/get_load", "/server_info", "/get_server_info", "/model_info", "/get_model_info",
  ]

  static func addWorkerRoutes(to router: Router<ServerRequestContext>, _ server: ServerContext) {
    router.get("/get_load") { _, _ in
      let (engine, _) = try server.host.ready()
      return Response.json([WorkerLoad(engine.statistics())])
    }
    // SGLang renamed these from /get_…; the router asks the new name first, then the old one.
    for path in ["/server_info", "/get_server_info"] {
      router.get(RouterPath(stringLiteral: path)) { _, _ in
        let (engine, context) = try server.host.ready()
        return Response.json(WorkerServerInfo(configuration: server.configuration, context: context, engine: engine))
      }
    }
    for path in ["/model_info", "/get_model_info"] {
      router.get(RouterPath(stringLiteral: path)) { _, _ in
        let (engine, context) = try server.host.ready()
        return Response.json(
          WorkerModelInfo(configuration: server.configuration, context: context, model: engine.modelInfo))
      }
    }
    // SGLang answers GET as well as POST here. Unlike SGLang, which refuses while requests run,
    // the flush always happens: running requests keep their blocks, nothing computed before is reused.
    for method in [HTTPRequest.Method.post, .get] {
      router.on("/flush_cache", method: method) { _, _ in
        let (engine, _) = try server.host.ready()
        engine.flushPrefixCache()
        server.logger.info("prefix cache flushed on request")
        return Response.json(["status": "ok", "message": "Prefix cache flushed."])
      }
    }
  }
}
