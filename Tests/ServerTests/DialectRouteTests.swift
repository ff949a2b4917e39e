import Accounts
import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import Engine
@testable import Server

/// The Anthropic, Responses and Ollama routes end to end in process, over the scripted engine
/// (each request yields up to three "ab" tokens): shapes, event order, keys, the store, usage rows.
@Suite struct DialectRouteTests {
  let routes = RouteTests()

  func object(_ buffer: ByteBuffer) throws -> [String: Any] { try routes.json(buffer) }

  /// `(event, data)` of each SSE event.
  func events(_ buffer: ByteBuffer) throws -> [(String, [String: Any])] {
    try String(decoding: Data(buffer.readableBytesView), as: UTF8.self).components(separatedBy: "\n\n")
      .filter { !$0.isEmpty }.map { event in
        let lines = event.split(separator: "\n")
        let name = try #require(lines.first { $0.hasPrefix("event: ") }).dropFirst(7)
        let data = try #require(lines.first { $0.hasPrefix("data: ") }).dropFirst(6)
        return (String(name), try #require(JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any]))
      }
  }

  func endpoints(_ server: ServerContext) throws -> [String] {
    try UsageLedger(try #require(server.accounts)).recent().map(\.endpoint)
  }

  @Test func anthropicMessagesWholeAndStreamedInAnthropicsOrder() async throws {
    let (app, server) = routes.makeApp(engine: try ScriptedEngine())
    try await app.test(.router) { client in
      let body = #"{"model":"scripted","max_tokens":10,"system":"s","messages":[{"role":"user","content":"Hello"}]}"#
      try await client.execute(uri: "/v1/messages", method: .post, body: ByteBuffer(string: body)) { r in
        #expect(r.status == .ok)
        let m = try object(r.body)
        #expect(m["type"] as? String == "message" && m["role"] as? String == "assistant")
        #expect((m["id"] as? String)?.hasPrefix("msg_") == true)
        let content = try #require(m["content"] as? [[String: Any]])
        #expect(content.count == 1 && content[0]["type"] as? String == "text" && content[0]["text"] as? String == "ababab")
        #expect(m["stop_reason"] as? String == "end_turn" && m.keys.contains("stop_sequence"))
        let usage = try #require(m["usage"] as? [String: Any])
        #expect(usage["output_tokens"] as? Int == 3 && (usage["input_tokens"] as? Int ?? 0) > 0)
      }
      let streamed = #"{"model":"scripted","max_tokens":3,"stream":true,"messages":[{"role":"user","content":"Hello"}]}"#
      try await client.execute(uri: "/v1/messages", method: .post, body: ByteBuffer(string: streamed)) { r in
        #expect(r.status == .ok && r.headers[.contentType] == "text/event-stream")
        let all = try events(r.body)
        #expect(
          all.map(\.0) == [
            "message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
            "content_block_delta", "content_block_stop", "message_delta", "message_stop",
          ])
        for (name, data) in all { #expect(data["type"] as? String == name) }
        let delta = try #require(all.first { $0.0 == "message_delta" }?.1)
        #expect((delta["delta"] as? [String: Any])?["stop_reason"] as? String == "max_tokens")
        #expect((delta["usage"] as? [String: Any])?["output_tokens"] as? Int == 3)
      }
      try await client.execute(
        uri: "/v1/messages/count_tokens", method: .post,
        body: ByteBuffer(string: #"{"model":"scripted","messages":[{"role":"user","content":"Hello"}]}"#)
      ) { r in
        #expect(r.status == .ok)
        let o = try object(r.body)
        #expect(o["input_tokens"] as? Int ?? 0 > 0)
      }
      try await client.execute(
        uri: "/v1/messages", method: .post, body: ByteBuffer(string: #"{"model":"scripted","messages":[]}"#)
      ) { r in
        #expect(r.status == .badRequest)
        let e = try object(r.body)
        #expect(e["type"] as? String == "error")
        #expect((e["error"] as? [String: Any])?["type"] as? String == "invalid_request_error")
      }
    }
    #expect(try endpoints(server).filter { $0 == "messages" }.count == 2)
  }

  @Test func xAPIKeyIsTakenLikeBearerAndAWrongOneIsAnAnthropic401() async throws {
    let (app, _) = routes.makeApp(engine: try ScriptedEngine(), keys: ["sk-a"])
    try await app.test(.router) { client in
      let body = ByteBuffer(string: #"{"model":"scripted","max_tokens":2,"messages":[{"role":"user","content":"Hi"}]}"#)
      try await client.execute(
        uri: "/v1/messages", method: .post, headers: [.xAPIKey: "sk-a", HTTPField.Name("anthropic-version")!: "2023-06-01"],
        body: body
      ) { r in #expect(r.status == .ok) }
      try await client.execute(uri: "/v1/messages", method: .post, headers: [.xAPIKey: "sk-wrong"], body: body) { r in
        #expect(r.status == .unauthorized)
        let o = try object(r.body)
        #expect((o["error"] as? [String: Any])?["type"] as? String == "authentication_error")
      }
      try await client.execute(uri: "/api/tags", method: .get) { r in
        #expect(r.status == .unauthorized)
        let o = try object(r.body)
        #expect(o["error"] is String)
      }
      try await client.execute(uri: "/api/version", method: .get) { r in #expect(r.status == .ok) }
    }
  }

  @Test func responsesAreStoredContinuedReadAndDeleted() async throws {
    let (app, server) = routes.makeApp(engine: try ScriptedEngine())
    try await app.test(.router) { client in
      var first = ""
      try await client.execute(
        uri: "/v1/responses", method: .post, body: ByteBuffer(string: #"{"input":"Hello","instructions":"be brief"}"#)
      ) { r in
        #expect(r.status == .ok)
        let o = try object(r.body)
        first = try #require(o["id"] as? String)
        #expect(first.hasPrefix("resp_") && o["object"] as? String == "response" && o["store"] as? Bool == true)
        #expect(o["status"] as? String == "completed" && o["instructions"] as? String == "be brief")
        let output = try #require(o["output"] as? [[String: Any]])
        let part = try #require((output.first?["content"] as? [[String: Any]])?.first)
        #expect(part["type"] as? String == "output_text" && part["text"] as? String == "ababab")
      }
      var firstPrompt = 0
      try await client.execute(uri: "/v1/responses/\(first)", method: .get) { r in
        #expect(r.status == .ok)
        let o = try object(r.body)
        #expect(o["id"] as? String == first)
        firstPrompt = try #require((o["usage"] as? [String: Any])?["input_tokens"] as? Int)
      }
      try await client.execute(
        uri: "/v1/responses", method: .post,
        body: ByteBuffer(string: #"{"input":"More","previous_response_id":"\#(first)","stream":true}"#)
      ) { r in
        #expect(r.status == .ok)
        let all = try events(r.body)
        #expect(all.first?.0 == "response.created" && all.last?.0 == "response.completed")
        let done = try #require(all.last?.1["response"] as? [String: Any])
        #expect(done["previous_response_id"] as? String == first)
        // The earlier turn and its answer are in this prompt; the earlier instructions are not.
        let prompt = try #require((done["usage"] as? [String: Any])?["input_tokens"] as? Int)
        #expect(prompt > firstPrompt)
      }
      try await client.execute(
        uri: "/v1/responses", method: .post,
        body: ByteBuffer(string: #"{"input":"x","previous_response_id":"resp_nope"}"#)
      ) { r in
        #expect(r.status == .notFound)
        let o = try object(r.body)
        #expect((o["error"] as? [String: Any])?["param"] as? String == "previous_response_id")
      }
      try await client.execute(
        uri: "/v1/responses/input_tokens", method: .post, body: ByteBuffer(string: #"{"input":"Hello"}"#)
      ) { r in
        let o = try object(r.body)
        #expect(o["object"] as? String == "response.input_tokens")
      }
      try await client.execute(uri: "/v1/responses/\(first)", method: .delete) { r in
        let o = try object(r.body)
        #expect(r.status == .ok && o["deleted"] as? Bool == true)
      }
      try await client.execute(uri: "/v1/responses/\(first)", method: .get) { r in #expect(r.status == .notFound) }
      try await client.execute(uri: "/v1/responses/\(first)", method: .put) { r in #expect(r.status.code == 405) }
    }
    #expect(try endpoints(server).filter { $0 == "responses" }.count == 2)
  }

  @Test func ollamaChatStreamsNDJSONByDefaultAndDescribesTheModel() async throws {
    let (app, server) = routes.makeApp(engine: try ScriptedEngine())
    try await app.test(.router) { client in
      try await client.execute(
        uri: "/api/chat", method: .post,
        body: ByteBuffer(string: #"{"model":"scripted:latest","messages":[{"role":"user","content":"Hi"}]}"#)
      ) { r in
        #expect(r.status == .ok && r.headers[.contentType] == "application/x-ndjson")
        let lines = String(decoding: Data(r.body.readableBytesView), as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 4)
        let objects = try lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(objects.prefix(3).allSatisfy { $0["done"] as? Bool == false })
        #expect(objects.last?["done"] as? Bool == true && objects.last?["eval_count"] as? Int == 3)
        #expect(objects.last?["done_reason"] as? String == "stop")
      }
      try await client.execute(
        uri: "/api/generate", method: .post,
        body: ByteBuffer(string: #"{"model":"scripted","prompt":"Hi","stream":false,"options":{"num_predict":2}}"#)
      ) { r in
        #expect(r.status == .ok)
        let o = try object(r.body)
        #expect(o["response"] as? String == "abab" && o["done"] as? Bool == true && o["done_reason"] as? String == "length")
      }
      try await client.execute(uri: "/api/generate", method: .post, body: ByteBuffer(string: #"{"model":"scripted"}"#)) { r in
        let o = try object(r.body)
        #expect(o["done_reason"] as? String == "load")
      }
      try await client.execute(
        uri: "/api/chat", method: .post,
        body: ByteBuffer(string: #"{"model":"other","messages":[{"role":"user","content":"Hi"}]}"#)
      ) { r in
        #expect(r.status == .notFound)
        let o = try object(r.body)
        #expect((o["error"] as? String)?.contains("other") == true)
      }
      try await client.execute(uri: "/api/tags", method: .get) { r in
        let models = try #require(try object(r.body)["models"] as? [[String: Any]])
        #expect(models.first?["name"] as? String == "scripted")
        #expect((models.first?["details"] as? [String: Any])?["format"] as? String == "gguf")
      }
      try await client.execute(uri: "/api/ps", method: .get) { r in
        let models = try #require(try object(r.body)["models"] as? [[String: Any]])
        #expect(models.first?["expires_at"] is String && models.first?["context_length"] as? Int == 256)
      }
      try await client.execute(uri: "/api/show", method: .post, body: ByteBuffer(string: #"{"model":"scripted"}"#)) { r in
        let o = try object(r.body)
        #expect((o["model_info"] as? [String: Any])?["general.architecture"] as? String == "llama")
        #expect((o["capabilities"] as? [String])?.starts(with: ["completion", "tools"]) == true)
      }
      try await client.execute(uri: "/api/version", method: .get) { r in
        let o = try object(r.body)
        #expect(o["version"] is String)
      }
    }
    #expect(try endpoints(server).sorted() == ["ollama.chat", "ollama.generate"])
  }
}
