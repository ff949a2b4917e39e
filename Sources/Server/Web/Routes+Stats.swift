import Hummingbird

/// `GET /v1/stats`, the dashboard's data: readable without a key, like `/metrics`, which already
/// tells the same numbers. Per-key usage and cost stay behind `/v1/usage` and the admin key.
extension Routes {
  static func addStats(to router: Router<ServerRequestContext>, _ server: ServerContext) {
    router.get("/v1/stats") { _, _ in
      Response.json(ServerStats(server))
    }
  }
}
