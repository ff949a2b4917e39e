import Accounts
import Foundation
import Hummingbird

/// The admin API (`--admin-key`): the same operations as `peregrine keys`, over HTTP.
extension Routes {
  static func addAdmin(to router: Router<ServerRequestContext>, _ server: ServerContext) {
    router.get("/v1/admin/keys") { _, context in
      let (store, ledger) = try admin(context, server)
      let keys = try store.list().map { k in
        KeyObject(k, remaining: try remaining(k, store, ledger))
      }
      return Response.json(ListObject(data: keys))
    }
    router.post("/v1/admin/keys") { request, context in
      let (store, _) = try admin(context, server)
      let body = try await decode(CreateKeyRequest.self, request, server)
      let (secret, key) = try accounts { try store.create(name: body.name ?? "key", tier: body.tier ?? "free") }
      return Response.json(KeyObject(key, remaining: nil, secret: secret), status: 201)
    }
    router.delete("/v1/admin/keys/{id}") { _, context in
      let (store, ledger) = try admin(context, server)
      let id = context.parameters.get("id") ?? ""
      try accounts { try store.revoke(id: id) }
      let key = try accounts { try store.key(id: id) }
      return Response.json(KeyObject(key, remaining: try remaining(key, store, ledger)))
    }
    router.post("/v1/admin/keys/{id}/tier") { request, context in
      let (store, ledger) = try admin(context, server)
      let id = context.parameters.get("id") ?? ""
      let body = try await decode(SetTierRequest.self, request, server)
      try accounts { try store.setTier(id: id, tier: body.tier) }
      let key = try accounts { try store.key(id: id) }
      return Response.json(KeyObject(key, remaining: try remaining(key, store, ledger)))
    }
    router.post("/v1/admin/keys/{id}/top_up") { request, context in
      let (store, ledger) = try admin(context, server)
      let id = context.parameters.get("id") ?? ""
      let body = try await decode(TopUpRequest.self, request, server)
      try accounts { try store.topUp(id: id, tokens: body.tokens) }
      let key = try accounts { try store.key(id: id) }
      return Response.json(KeyObject(key, remaining: try remaining(key, store, ledger)))
    }
    router.get("/v1/admin/tiers") { _, context in
      let (store, _) = try admin(context, server)
      return Response.json(ListObject(data: try store.tiers().map(TierObject.init)))
    }
    router.post("/v1/admin/tiers") { request, context in
      let (store, _) = try admin(context, server)
      let body = try await decode(TierRequest.self, request, server)
      let tier = Tier(name: body.name, dailyTokens: body.dailyTokens, requestsPerMinute: body.requestsPerMinute)
      try accounts { try store.setTier(tier) }
      return Response.json(TierObject(tier))
    }
  }

  private static func admin(_ context: ServerRequestContext, _ server: ServerContext) throws(APIError)
    -> (KeyStore, QuotaLedger)
  {
    guard server.configuration.economics.adminKey != nil, let accounts = server.accounts else {
      throw APIError(
        status: 404, message: "The admin API is off; start the server with --admin-key (and a usage database).",
        type: "invalid_request_error", param: nil, code: "not_found")
    }
    guard context.principal.kind == .admin else {
      throw APIError(
        status: 403, message: "The admin API needs the server's --admin-key.", type: "invalid_request_error",
        param: nil, code: "forbidden")
    }
    return (KeyStore(accounts), QuotaLedger(accounts))
  }

  private static func remaining(_ key: APIKey, _ store: KeyStore, _ ledger: QuotaLedger) throws -> Int? {
    let tier = try store.tier(named: key.tier)
    return try ledger.status(Principal(id: key.id, kind: .storedKey, tier: tier)).remainingTokens
  }

  /// Runs a key-store change; its refusals become 400/404 with the store's message.
  private static func accounts<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as AccountsError {
      if case .unknownKey = error {
        throw APIError(status: 404, message: error.description, type: "invalid_request_error", param: nil, code: "not_found")
      }
      throw APIError.invalidParameter(nil, error.description)
    }
  }
}
