import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import Engine
@testable import Server

/// The operational contracts in process: draining health, CORS preflights, 405 with Allow, /status,
/// and OpenAI-only finish reasons (the same points run on a real process in operations_test.py).
@Suite struct OperationRouteTests {
  func makeApp(engine: ScriptedEngine, keys: [String] = [], cors: [String] = []) -> (some ApplicationProtocol, ServerContext)
  {
    var configuration = ServerConfiguration(modelName: "scripted")
    configuration.apiKeys = keys
    configuration.corsOrigins = cors
    let server = ServerContext(configuration: configuration, accounts: nil, logger: Logger(label: "test"))
    let served = ServedModel(engine: engine, template: .chatML(defaultSystem: nil))
    server.host.set(.ready(engine: engine, context: ModelContext(served: served, name: "scripted", aliases: [])))
    return (Application(router: Routes.router(server)), server)
  }

  func json(_ buffer: ByteBuffer) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
  }

  @Test func healthSaysDrainingOnceShutdownBeginsAndNewRequestsGo503() async throws {
    let (app, server) = makeApp(engine: try ScriptedEngine())
    try await app.test(.router) { client in
      try await client.execute(uri: "/health", method: .get) { r in #expect(r.status == .ok) }
      server.host.beginDraining()
      try await client.execute(uri: "/health", method: .get) { r in
        #expect(r.status.code == 503)
        let body = try json(r.body)
        #expect(body["status"] as? String == "draining")
      }
      try await client.execute(uri: "/v1/completions", method: .post, body: ByteBuffer(string: #"{"prompt":"x"}"#)) { r in
        #expect(r.status.code == 503)
      }
      try await client.execute(uri: "/status", method: .get) { r in
        let body = try json(r.body)
        #expect(body["status"] as? String == "draining")
        #expect(body["model"] as? String == "scripted")
        #expect((body["sampling_defaults"] as? [String: Any])?["top_k"] as? Int == 40)
      }
      try await client.execute(uri: "/metrics", method: .get) { r in
        #expect(String(buffer: r.body).contains("vllm:num_requests_running"))
      }
    }
  }

  @Test func aWrongMethodGets405WithAllow() async throws {
    let (app, _) = makeApp(engine: try ScriptedEngine())
    try await app.test(.router) { client in
      try await client.execute(uri: "/v1/chat/completions", method: .put) { r in
        #expect(r.status.code == 405)
        #expect(r.headers[.allow] == "GET, POST")
        let body = try json(r.body)
        #expect((body["error"] as? [String: Any])?["code"] as? String == "method_not_allowed")
      }
      try await client.execute(uri: "/v1/models/scripted", method: .delete) { r in
        #expect(r.status.code == 405)
        #expect(r.headers[.allow] == "GET")
      }
      try await client.execute(uri: "/health", method: .post) { r in #expect(r.headers[.allow] == "GET, HEAD") }
      try await client.execute(uri: "/v1/nothing", method: .get) { r in #expect(r.status.code == 404) }
    }
    #expect(Routes.allowedMethods(for: "/v1/models/a/b") == nil)
    #expect(Routes.allowedMethods(for: "/v1/completions/") == "POST")
  }

  @Test func corsPreflightIsAnsweredBeforeTheKeyCheckAndOnlyForAllowedOrigins() async throws {
    let (app, _) = makeApp(engine: try ScriptedEngine(), keys: ["sk-k"], cors: ["http://app.test"])
    let preflight: HTTPFields = [
      .origin: "http://app.test", .accessControlRequestMethod: "POST", .accessControlRequestHeaders: "authorization",
    ]
    try await app.test(.router) { client in
      try await client.execute(uri: "/v1/chat/completions", method: .options, headers: preflight) { r in
        #expect(r.status.code == 204)
        #expect(r.headers[.accessControlAllowOrigin] == "http://app.test")
        #expect(r.headers[.accessControlAllowHeaders] == "authorization")
        #expect(r.headers[.vary] == "Origin")
      }
      try await client.execute(
        uri: "/v1/models", method: .get, headers: [.origin: "http://app.test", .authorization: "Bearer sk-k"]
      ) { r in
        #expect(r.status == .ok)
        #expect(r.headers[.accessControlAllowOrigin] == "http://app.test")
      }
      try await client.execute(uri: "/v1/models", method: .get, headers: [.origin: "http://other.test"]) { r in
        #expect(r.status.code == 401)
        #expect(r.headers[.accessControlAllowOrigin] == nil)
      }
    }
    let (open, _) = makeApp(engine: try ScriptedEngine(), cors: ["*"])
    try await open.test(.router) { client in
      try await client.execute(uri: "/v1/models", method: .get, headers: [.origin: "http://any.test"]) { r in
        #expect(r.headers[.accessControlAllowOrigin] == "*")
      }
    }
    let (off, _) = makeApp(engine: try ScriptedEngine())
    try await off.test(.router) { client in
      try await client.execute(uri: "/v1/models", method: .options, headers: preflight) { r in
        #expect(r.headers[.accessControlAllowOrigin] == nil)
      }
    }
  }

  @Test func finishReasonsOnTheWireAreOpenAIsOnly() {
    var c = EngineCompletion(
      finishReason: .abort, promptTokens: 1, completionTokens: 1, cachedPromptTokens: 0, preemptions: 0,
      timings: RequestTimings(), error: nil)
    #expect(OpenAIFormat.finishReason(.abort) == "length" && OpenAIFormat.abortReason(c) == "shutdown")
    c.finishReason = .error
    c.error = "boom"
    #expect(OpenAIFormat.finishReason(.error) == "length" && OpenAIFormat.abortReason(c) == "error: boom")
    c.finishReason = .stop
    #expect(OpenAIFormat.finishReason(.stop) == "stop" && OpenAIFormat.abortReason(c) == nil)
    for r in [FinishReason.stop, .length, .abort, .error] {
      #expect(["stop", "length"].contains(OpenAIFormat.finishReason(r)))
    }
  }
}
