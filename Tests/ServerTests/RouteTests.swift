import Accounts
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import Engine
@testable import Server

/// The routes end to end in process, over a scripted engine: statuses, headers and body shapes.
@Suite struct RouteTests {
  func makeApp(engine: ScriptedEngine?, keys: [String] = [], maxBody: Int = 4096) -> (
    some ApplicationProtocol, ServerContext
  ) {
    var configuration = ServerConfiguration(modelName: "scripted")
    configuration.apiKeys = keys
    configuration.maxBodyBytes = maxBody
    let server = ServerContext(
      configuration: configuration, accounts: try? AccountsDatabase(path: ":memory:"), logger: Logger(label: "test"))
    if let engine {
      let served = ServedModel(engine: engine, template: .chatML(defaultSystem: nil))
      server.host.set(.ready(engine: engine, context: ModelContext(served: served, name: "scripted", aliases: [])))
    }
    return (Application(router: Routes.router(server)), server)
  }

  func json(_ buffer: ByteBuffer) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
  }

  func errorCode(_ buffer: ByteBuffer) throws -> String? {
    (try json(buffer)["error"] as? [String: Any])?["code"] as? String
  }

  @Test func healthIs503WhileLoadingAndInferenceToo() async throws {
    let (app, _) = makeApp(engine: nil)
    try await app.test(.router) { client in
      try await client.execute(uri: "/health", method: .get) { r in #expect(r.status.code == 503) }
      try await client.execute(
        uri: "/v1/completions", method: .post, body: ByteBuffer(string: #"{"prompt":"hi"}"#)
      ) { r in
        #expect(r.status.code == 503)
        #expect(r.headers[.retryAfter] != nil)
      }
    }
  }

  @Test func chatCompletionWholeWithRequestID() async throws {
    let engine = try ScriptedEngine()
    let (app, server) = makeApp(engine: engine)
    try await app.test(.router) { client in
      try await client.execute(uri: "/health", method: .get) { r in #expect(r.status == .ok) }
      try await client.execute(
        uri: "/v1/chat/completions", method: .post, headers: [.requestID: "my-id-1"],
        body: ByteBuffer(
          string: #"{"model":"scripted","messages":[{"role":"user","content":"Hello"}],"n":2,"user":"bob"}"#)
      ) { r in
        #expect(r.status == .ok)
        #expect(r.headers[.requestID] == "my-id-1")
        let body = try json(r.body)
        #expect(body["object"] as? String == "chat.completion")
        let choices = try #require(body["choices"] as? [[String: Any]])
        #expect(choices.count == 2)
        #expect((choices[1]["message"] as? [String: Any])?["content"] as? String == "ababab")
        #expect(choices[0]["finish_reason"] as? String == "stop")
        let usage = try #require(body["usage"] as? [String: Any])
        #expect(usage["completion_tokens"] as? Int == 6)
        #expect(body["timings"] != nil)
      }
    }
    #expect(engine.submitted.count == 2)
    let records = try #require(try server.accounts.map { try UsageLedger($0).recent() })
    #expect(records.first?.requestID == "my-id-1")
    #expect(records.first?.user == "bob")
    #expect(records.first?.completionTokens == 6)
  }

  @Test func streamedCompletionEndsWithDoneAndUsage() async throws {
    let engine = try ScriptedEngine()
    let (app, _) = makeApp(engine: engine)
    try await app.test(.router) { client in
      try await client.execute(
        uri: "/v1/completions", method: .post,
        body: ByteBuffer(
          string: #"{"prompt":"Hi","max_tokens":2,"stream":true,"stream_options":{"include_usage":true},"logprobs":1}"#)
      ) { r in
        #expect(r.status == .ok)
        #expect(r.headers[.contentType] == "text/event-stream")
        let text = String(buffer: r.body)
        let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(events.last == "data: [DONE]")
        #expect(events.allSatisfy { $0.hasPrefix("data: ") })
        let payloads = events.dropLast().map {
          try? JSONSerialization.jsonObject(with: Data($0.dropFirst(6).utf8)) as? [String: Any]
        }
        let texts = payloads.compactMap { ($0?["choices"] as? [[String: Any]])?.first?["text"] as? String }
        #expect(texts.joined() == "abab")
        let usage = try #require(payloads.last??["usage"] as? [String: Any])
        #expect(usage["completion_tokens"] as? Int == 2)
        #expect(
          payloads.contains { (($0?["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String) == "length" })
      }
    }
  }

  @Test func errorStatuses() async throws {
    let engine = try ScriptedEngine()
    let (app, _) = makeApp(engine: engine, keys: ["sk-test"], maxBody: 2048)
    let auth: HTTPFields = [.authorization: "Bearer sk-test"]
    try await app.test(.router) { client in
      try await client.execute(uri: "/v1/models", method: .get) { r in
        #expect(r.status.code == 401)
        let code = try errorCode(r.body)
        #expect(code == "invalid_api_key")
      }
      try await client.execute(uri: "/health", method: .get) { r in #expect(r.status == .ok) }
      try await client.execute(uri: "/v1/models", method: .get, headers: auth) { r in #expect(r.status == .ok) }
      try await client.execute(
        uri: "/v1/chat/completions", method: .post, headers: auth,
        body: ByteBuffer(string: #"{"model":"nope","messages":[{"role":"user","content":"x"}]}"#)
      ) { r in #expect(r.status.code == 404) }
      try await client.execute(
        uri: "/v1/chat/completions", method: .post, headers: auth,
        body: ByteBuffer(string: #"{"messages":[{"role":"user","content":"x"}],"temperature":9}"#)
      ) { r in
        #expect(r.status.code == 400)
        let body = try json(r.body)
        #expect((body["error"] as? [String: Any])?["param"] as? String == "temperature")
      }
      try await client.execute(
        uri: "/v1/completions", method: .post, headers: auth,
        body: ByteBuffer(string: #"{"prompt":"x","max_tokens":100000}"#)
      ) { r in
        let code = try errorCode(r.body)
        #expect(code == "context_length_exceeded")
      }
      try await client.execute(
        uri: "/v1/completions", method: .post, headers: auth,
        body: ByteBuffer(string: #"{"prompt":""# + String(repeating: "a", count: 5000) + #""}"#)
      ) { r in #expect(r.status.code == 413) }
      try await client.execute(uri: "/no/such/route", method: .get, headers: auth) { r in
        #expect(r.status.code == 404)
        let code = try errorCode(r.body)
        #expect(code == "not_found")
      }
      engine.refuseWith = .queueFull(waiting: 256, retryAfterSeconds: 2)
      try await client.execute(
        uri: "/v1/completions", method: .post, headers: auth, body: ByteBuffer(string: #"{"prompt":"x"}"#)
      ) { r in
        #expect(r.status.code == 429)
        #expect(r.headers[.retryAfter] == "2")
      }
    }
  }

  @Test func tokenizeRoundTrip() async throws {
    let engine = try ScriptedEngine()
    let (app, _) = makeApp(engine: engine)
    try await app.test(.router) { client in
      var ids: [Int] = []
      try await client.execute(
        uri: "/tokenize", method: .post,
        body: ByteBuffer(string: #"{"prompt":"Hello world","add_special_tokens":false}"#)
      ) { r in
        ids = try #require(try json(r.body)["tokens"] as? [Int])
        #expect(!ids.isEmpty)
      }
      let body = try JSONSerialization.data(withJSONObject: ["tokens": ids])
      try await client.execute(uri: "/detokenize", method: .post, body: ByteBuffer(bytes: body)) { r in
        let body = try json(r.body)
        #expect(body["prompt"] as? String == "Hello world")
      }
      try await client.execute(uri: "/detokenize", method: .post, body: ByteBuffer(string: #"{"tokens":[-1]}"#)) { r in
        #expect(r.status.code == 400)
      }
      try await client.execute(uri: "/metrics", method: .get) { r in
        #expect(String(buffer: r.body).contains("vllm:num_requests_running"))
      }
      try await client.execute(uri: "/openapi.json", method: .get) { r in #expect(r.status == .ok) }
    }
  }

  @Test func mergedStreamCancelsUnfinishedChoicesWhenDropped() async throws {
    let engine = try ScriptedEngine()
    engine.tokenDelay = .milliseconds(50)
    engine.tokensPerRequest = 100
    let r = try decode(ChatCompletionRequest.self, #"{"messages":[{"role":"user","content":"hi"}],"n":2}"#)
    let plan = try mapper().plan(r, id: "c")
    do {
      let streams = try ChoiceStreams(plan: plan, engine: engine)
      var seen = 0
      for await _ in streams.events {
        seen += 1
        if seen == 2 { break }
      }
    }
    try await Task.sleep(for: .milliseconds(100))
    #expect(Set(engine.cancelled) == ["c-0", "c-1"])
  }
}
