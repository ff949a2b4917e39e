@testable import Accounts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import Engine
@testable import Server

/// Keys, allowances, prices, the result cache, stored completions and the admin API, in process
/// over the scripted engine (each choice yields up to 3 tokens "ab").
@Suite struct EconomicsRouteTests {
  func makeApp(_ settings: EconomicsSettings = EconomicsSettings(), keys: [String] = [])
    throws -> (some ApplicationProtocol, ServerContext, ScriptedEngine, AccountsDatabase)
  {
    var configuration = ServerConfiguration(modelName: "scripted")
    configuration.apiKeys = keys
    configuration.economics = settings
    let db = try AccountsDatabase(path: ":memory:")
    let server = ServerContext(configuration: configuration, accounts: db, logger: Logger(label: "test"))
    let engine = try ScriptedEngine()
    let served = ServedModel(engine: engine, template: .chatML(defaultSystem: nil))
    server.host.set(.ready(engine: engine, context: ModelContext(served: served, name: "scripted", aliases: [])))
    return (Application(router: Routes.router(server)), server, engine, db)
  }

  func json(_ buffer: ByteBuffer) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
  }

  func bearer(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)"] }

  static let chat = #"{"messages":[{"role":"user","content":"Hello there"}],"max_tokens":3,"temperature":0}"#

  @Test func aServerWithoutKeysIgnoresTheKeyAClientSends() async throws {
    var settings = EconomicsSettings()
    settings.adminKey = "sk-admin"
    let (app, _, _, db) = try makeApp(settings)
    try await app.test(.router) { client in
      try await client.execute(
        uri: "/v1/chat/completions", method: .post, headers: bearer("sk-anything"), body: ByteBuffer(string: Self.chat)
      ) { #expect($0.status == .ok) }
    }
    // Once the database holds a key, an unknown one is refused.
    _ = try KeyStore(db).create(name: "a", tier: "free")
    try await app.test(.router) { client in
      try await client.execute(
        uri: "/v1/chat/completions", method: .post, headers: bearer("sk-anything"), body: ByteBuffer(string: Self.chat)
      ) { #expect($0.status == .unauthorized) }
    }
  }

  @Test func storedKeysAreMeteredAndRefusedWith429AndHeaders() async throws {
    let (app, _, _, db) = try makeApp()
    try KeyStore(db).setTier(Tier(name: "tiny", dailyTokens: 40))
    let (secret, key) = try KeyStore(db).create(name: "t", tier: "tiny")
    try await app.test(.router) { client in
      // Without a key: the database holds keys, so one is required.
      try await client.execute(uri: "/v1/chat/completions", method: .post, body: ByteBuffer(string: Self.chat)) {
        #expect($0.status.code == 401)
      }
      var remaining = 40
      for _ in 0..<4 {
        try await client.execute(
          uri: "/v1/chat/completions", method: .post, headers: bearer(secret), body: ByteBuffer(string: Self.chat)
        ) { r in
          if r.status.code == 200 {
            #expect(r.headers[HTTPField.Name("x-ratelimit-limit-tokens")!] == "40")
            let left = Int(r.headers[HTTPField.Name("x-ratelimit-remaining-tokens")!] ?? "") ?? -1
            #expect(left < remaining)
            remaining = left
          } else {
            #expect(r.status.code == 429)
            let error = try #require(try json(r.body)["error"] as? [String: Any])
            #expect(error["code"] as? String == "insufficient_quota")
            #expect((error["message"] as? String)?.contains("left") == true)
            #expect(r.headers[HTTPField.Name("x-ratelimit-reset-tokens")!] != nil)
            #expect(r.headers[.retryAfter] != nil)
          }
        }
      }
    }
    let rows = try UsageLedger(db).recent()
    #expect(rows.allSatisfy { $0.apiKeyID == key.id })
    #expect(rows.reduce(0) { $0 + $1.chargedTokens } <= 40)
    #expect(try QuotaLedger(db).outstandingReservations() == 0)
  }

  @Test func defaultMaxTokensShrinksToTheAllowance() async throws {
    var settings = EconomicsSettings()
    settings.allowAnonymous = true
    settings.anonymousDailyTokens = 60
    let (app, _, engine, _) = try makeApp(settings)
    try await app.test(.router) { client in
      try await client.execute(
        uri: "/v1/chat/completions", method: .post,
        body: ByteBuffer(string: #"{"messages":[{"role":"user","content":"Hi"}]}"#)
      ) { r in
        #expect(r.status == .ok)
        #expect(r.headers[HTTPField.Name("x-ratelimit-limit-tokens")!] == "60")
      }
    }
    #expect(engine.submitted.first.map { $0.maxTokens + $0.promptIDs.count } ?? 0 <= 60)
  }

  @Test func costFollowsThePriceTable() async throws {
    var settings = EconomicsSettings()
    settings.prices = PriceTable(input: 1_000_000, output: 2_000_000)  // $1 per input token, $2 per output token
    let (app, _, _, db) = try makeApp(settings)
    try await app.test(.router) { client in
      try await client.execute(
        uri: "/v1/chat/completions", method: .post, body: ByteBuffer(string: Self.chat.replacingOccurrences(
          of: #""temperature":0"#, with: #""temperature":0.7"#))
      ) { r in
        let usage = try #require(try json(r.body)["usage"] as? [String: Any])
        let cost = try #require(usage["cost"] as? [String: Any])
        let prompt = usage["prompt_tokens"] as! Int
        let completion = usage["completion_tokens"] as! Int
        #expect(cost["input"] as? Double == Double(prompt))
        #expect(cost["output"] as? Double == Double(2 * completion))
        #expect(cost["total"] as? Double == Double(prompt + 2 * completion))
      }
    }
    let row = try #require(try UsageLedger(db).recent().first)
    #expect(row.costInput == Double(row.promptTokens) && row.costOutput == Double(2 * row.completionTokens))
  }

  @Test func deterministicRequestsAreCachedPerKey() async throws {
    var settings = EconomicsSettings()
    settings.prices = PriceTable(input: 1, output: 2, cached: 0.5)
    let (app, _, engine, _) = try makeApp(settings, keys: ["sk-a", "sk-b"])
    try await app.test(.router) { client in
      var first = ""
      for (key, expected) in [("sk-a", "miss"), ("sk-a", "hit"), ("sk-b", "miss")] {
        try await client.execute(
          uri: "/v1/chat/completions", method: .post, headers: bearer(key), body: ByteBuffer(string: Self.chat)
        ) { r in
          #expect(r.headers[HTTPField.Name("x-cache")!] == expected)
          let body = try json(r.body)
          let text = ((body["choices"] as? [[String: Any]])?[0]["message"] as? [String: Any])?["content"] as? String
          if first.isEmpty { first = text ?? "" } else { #expect(text == first) }
          if expected == "hit" {
            let usage = try #require(body["usage"] as? [String: Any])
            let details = usage["prompt_tokens_details"] as? [String: Any]
            #expect(details?["cached_tokens"] as? Int == usage["prompt_tokens"] as? Int)
            #expect((usage["cost"] as? [String: Any])?["output"] as? Double == 0)
          }
        }
      }
      // Bypassed by Cache-Control: no-cache; a sampled request without seed is not cacheable.
      var noCache = bearer("sk-a")
      noCache[.cacheControl] = "no-cache"
      try await client.execute(
        uri: "/v1/chat/completions", method: .post, headers: noCache, body: ByteBuffer(string: Self.chat)
      ) { #expect($0.headers[HTTPField.Name("x-cache")!] == nil) }
      let sampled = Self.chat.replacingOccurrences(of: #""temperature":0"#, with: #""temperature":0.9"#)
      for _ in 0..<2 {
        try await client.execute(
          uri: "/v1/chat/completions", method: .post, headers: bearer("sk-a"), body: ByteBuffer(string: sampled)
        ) { #expect($0.headers[HTTPField.Name("x-cache")!] == nil) }
      }
    }
    #expect(engine.submitted.count == 5)
  }

  @Test func cachedStreamReplaysAsSSE() async throws {
    let (app, _, engine, _) = try makeApp()
    let streamed = Self.chat.replacingOccurrences(of: "}", with: #","stream":true,"seed":7}"#, options: .backwards,
      range: Self.chat.range(of: "}", options: .backwards))
    try await app.test(.router) { client in
      var bodies: [String] = []
      for _ in 0..<2 {
        try await client.execute(uri: "/v1/chat/completions", method: .post, body: ByteBuffer(string: streamed)) { r in
          bodies.append(String(buffer: r.body))
        }
      }
      func contents(_ sse: String) -> String {
        sse.split(separator: "\n").filter { $0.hasPrefix("data: {") }.compactMap { line -> String? in
          let obj = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any]
          let delta = ((obj?["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])
          return delta?["content"] as? String
        }.joined()
      }
      #expect(bodies.count == 2 && bodies[1].hasSuffix("data: [DONE]\n\n"))
      #expect(contents(bodies[0]) == contents(bodies[1]) && !contents(bodies[0]).isEmpty)
    }
    #expect(engine.submitted.count == 1)
  }

  @Test func storedCompletionsBelongToTheirKey() async throws {
    let (app, _, _, db) = try makeApp(keys: ["sk-a", "sk-b"])
    let stored = Self.chat.replacingOccurrences(of: #""max_tokens":3"#, with: #""max_tokens":3,"store":true,"metadata":{"app":"t"}"#)
    try await app.test(.router) { client in
      var id = ""
      try await client.execute(
        uri: "/v1/chat/completions", method: .post, headers: bearer("sk-a"), body: ByteBuffer(string: stored)
      ) { id = try json($0.body)["id"] as? String ?? "" }
      try await client.execute(
        uri: "/v1/chat/completions", method: .post, headers: bearer("sk-a"), body: ByteBuffer(string: Self.chat)
      ) { #expect($0.status == .ok) }
      try await client.execute(uri: "/v1/chat/completions", method: .get, headers: bearer("sk-a")) { r in
        let data = try #require(try json(r.body)["data"] as? [[String: Any]])
        #expect(data.map { $0["id"] as? String } == [id])
        #expect((data[0]["metadata"] as? [String: Any])?["app"] as? String == "t")
      }
      try await client.execute(uri: "/v1/chat/completions/\(id)/messages", method: .get, headers: bearer("sk-a")) {
        let data = try #require(try json($0.body)["data"] as? [[String: Any]])
        #expect(data.first?["content"] as? String == "Hello there")
      }
      try await client.execute(uri: "/v1/chat/completions/\(id)", method: .get, headers: bearer("sk-b")) {
        #expect($0.status.code == 404)
      }
      try await client.execute(uri: "/v1/chat/completions/\(id)", method: .delete, headers: bearer("sk-b")) {
        #expect($0.status.code == 404)
      }
      try await client.execute(uri: "/v1/chat/completions/\(id)", method: .delete, headers: bearer("sk-a")) {
        #expect((try? json($0.body))?["deleted"] as? Bool == true)
      }
    }
    // Without store, no prompt text is written anywhere in the database.
    let texts = try await db.writer.read { d in
      try String.fetchAll(d, sql: "SELECT request || response FROM stored_completions")
    }
    #expect(texts.isEmpty)
  }

  @Test func tokenCountersAndEstimate() async throws {
    var settings = EconomicsSettings()
    settings.prices = PriceTable(input: 1_000_000, output: 1_000_000)
    let (app, _, _, _) = try makeApp(settings)
    try await app.test(.router) { client in
      var count = 0
      try await client.execute(
        uri: "/v1/chat/completions/input_tokens", method: .post, body: ByteBuffer(string: Self.chat)
      ) { r in
        let body = try json(r.body)
        #expect(body["object"] as? String == "response.input_tokens")
        count = body["input_tokens"] as? Int ?? 0
        #expect(count > 2)
      }
      try await client.execute(
        uri: "/v1/completions/input_tokens", method: .post, body: ByteBuffer(string: #"{"prompt":"a b c"}"#)
      ) { #expect((try? json($0.body))?["input_tokens"] as? Int ?? 0 > 0) }
      try await client.execute(uri: "/v1/usage/estimate", method: .post, body: ByteBuffer(string: Self.chat)) { r in
        let body = try json(r.body)
        #expect(body["prompt_tokens"] as? Int == count)
        #expect(body["max_output_tokens"] as? Int == 3)
        let cost = try #require(body["cost"] as? [String: Any])
        #expect(cost["min"] as? Double == Double(count) && cost["max"] as? Double == Double(count + 3))
      }
    }
  }

  @Test func usageReportIsOwnKeyOnlyExceptForTheAdmin() async throws {
    var settings = EconomicsSettings()
    settings.adminKey = "admin-secret"
    let (app, _, _, _) = try makeApp(settings, keys: ["sk-a", "sk-b"])
    try await app.test(.router) { client in
      for key in ["sk-a", "sk-a", "sk-b"] {
        try await client.execute(
          uri: "/v1/chat/completions", method: .post, headers: bearer(key),
          body: ByteBuffer(string: Self.chat.replacingOccurrences(of: #""temperature":0"#, with: #""temperature":1"#))
        ) { #expect($0.status == .ok) }
      }
      try await client.execute(uri: "/v1/usage?group_by=key", method: .get, headers: bearer("sk-a")) { r in
        let data = try #require(try json(r.body)["data"] as? [[String: Any]])
        #expect(data.count == 1 && data[0]["requests"] as? Int == 2)
      }
      try await client.execute(uri: "/v1/usage?group_by=key", method: .get, headers: bearer("admin-secret")) { r in
        let data = try #require(try json(r.body)["data"] as? [[String: Any]])
        #expect(data.map { $0["requests"] as? Int ?? 0 }.sorted() == [1, 2])
      }
      try await client.execute(uri: "/v1/usage?group_by=week", method: .get, headers: bearer("sk-a")) {
        #expect($0.status.code == 400)
      }
    }
  }

  @Test func adminAPIManagesKeys() async throws {
    var settings = EconomicsSettings()
    settings.adminKey = "admin-secret"
    let (app, _, _, _) = try makeApp(settings)
    try await app.test(.router) { client in
      var secret = ""
      var id = ""
      try await client.execute(
        uri: "/v1/admin/keys", method: .post, headers: bearer("admin-secret"),
        body: ByteBuffer(string: #"{"name":"alice","tier":"free"}"#)
      ) { r in
        #expect(r.status.code == 201)
        let body = try json(r.body)
        secret = body["secret"] as? String ?? ""
        id = body["id"] as? String ?? ""
      }
      try await client.execute(uri: "/v1/admin/keys", method: .get, headers: bearer(secret)) {
        #expect($0.status.code == 403)
      }
      try await client.execute(
        uri: "/v1/admin/keys/\(id)/top_up", method: .post, headers: bearer("admin-secret"),
        body: ByteBuffer(string: #"{"tokens":1000}"#)
      ) { r in
        let body = try json(r.body)
        #expect(body["pack_tokens"] as? Int == 1000 && body["remaining_tokens"] as? Int == 6000)
      }
      try await client.execute(uri: "/v1/chat/completions", method: .post, headers: bearer(secret),
        body: ByteBuffer(string: Self.chat)) { #expect($0.status == .ok) }
      try await client.execute(uri: "/v1/admin/keys/\(id)", method: .delete, headers: bearer("admin-secret")) {
        #expect((try? json($0.body))?["revoked_at"] != nil)
      }
      try await client.execute(uri: "/v1/chat/completions", method: .post, headers: bearer(secret),
        body: ByteBuffer(string: Self.chat)) { #expect($0.status.code == 401) }
    }
  }
}
