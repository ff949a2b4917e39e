import Accounts
import Foundation
import Testing

@testable import Engine
@testable import Server

@Suite struct ServerPartsTests {
  @Test func apiKeys() {
    let check = APIKeyCheck(keys: ["sk-one", "sk-two"])
    #expect(check.matchingKey(authorization: "Bearer sk-two") == "sk-two")
    #expect(check.matchingKey(authorization: "bearer sk-one") == "sk-one")
    #expect(check.matchingKey(authorization: "Bearer sk-on") == nil)
    #expect(check.matchingKey(authorization: "Bearer sk-one1") == nil)
    #expect(check.matchingKey(authorization: "sk-one") == nil)
    #expect(check.matchingKey(authorization: nil) == nil)
    #expect(check.matchingKey(authorization: "BEARER sk-one") == "sk-one")
    #expect(check.keyID("sk-one") != check.keyID("sk-two"))
    #expect(check.keyID("sk-one").count == 36)
    #expect(!check.keyID("sk-one").contains("sk-one"))
    // Per key by default; one namespace for all with a shared cache; no key shares one anyway.
    #expect(check.cacheNamespace(keyID: check.keyID("sk-one")) != check.cacheNamespace(keyID: check.keyID("sk-two")))
    #expect(check.cacheNamespace(keyID: nil) == .shared)
    let shared = APIKeyCheck(keys: ["sk-one", "sk-two"], sharedCache: true)
    #expect(shared.cacheNamespace(keyID: shared.keyID("sk-one")) == shared.cacheNamespace(keyID: shared.keyID("sk-two")))
  }

  @Test func keyIDsAreStableForOneDatabaseAndItsSecret() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("usage-\(UUID().uuidString)/usage.sqlite")
      .path
    defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
    let first = try AccountsDatabase(path: path).digest.secret
    let again = try AccountsDatabase(path: path).digest.secret
    #expect(first == again && first.count == 32)
    #expect(try AccountsDatabase(path: ":memory:").digest.secret != first)
    let id = APIKeyCheck(keys: ["sk-one"], digest: KeyDigest(secret: first)).keyID("sk-one")
    #expect(id == APIKeyCheck(keys: ["sk-one"], digest: KeyDigest(secret: again)).keyID("sk-one"))
  }

  @Test func storedStringsAreCapped() throws {
    let store = UsageLedger(try AccountsDatabase(path: ":memory:"))
    let long = String(repeating: "é", count: 10_000)
    let record = UsageRecord(
      requestID: long, createdAt: 1, endpoint: "chat.completions", model: long, user: long,
      apiKeyID: nil, promptTokens: 1, completionTokens: 1, cachedTokens: 0, queueSeconds: 0, ttftSeconds: 0,
      e2eSeconds: 0, decodeTokensPerSecond: 0, status: 200, finishReason: "stop")
    let row = try store.insert(record)
    let stored = try #require(try store.recent().first)
    #expect(stored.user?.unicodeScalars.count == 256)
    #expect(stored.requestID.unicodeScalars.count == 256 && stored.model.unicodeScalars.count == 256)
    try store.setStatus(499, id: row)
    #expect(try store.recent().first?.status == 499)
  }

  @Test func procStatParsing() throws {
    // The command name holds spaces and a parenthesis, which naive splitting gets wrong.
    let stat =
      "1234 (my (odd) proc) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 7 0 100 123456789 2048 18446744073709551615"
    let s = try #require(ProcessSample.parse(stat: stat, pageSize: 4096, ticksPerSecond: 100))
    #expect(s.cpuSeconds == 3.0)
    #expect(s.threads == 7)
    #expect(s.virtualBytes == 123_456_789)
    #expect(s.residentBytes == 2048 * 4096)
    #expect(ProcessSample.parse(stat: "garbage", pageSize: 4096, ticksPerSecond: 100) == nil)
    #expect(ProcessSample.read() != nil)
  }

  @Test func usageRecordsSurviveReopening() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("usage-\(UUID().uuidString)/usage.sqlite")
      .path
    defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
    let record = UsageRecord(
      requestID: "req-1", createdAt: 1, endpoint: "chat.completions", model: "m", user: "alice",
      apiKeyID: "key-1", promptTokens: 10, completionTokens: 5, cachedTokens: 2, queueSeconds: 0.1, ttftSeconds: 0.2,
      e2eSeconds: 0.5, decodeTokensPerSecond: 12, status: 200, finishReason: "stop")
    do {
      let store = UsageLedger(try AccountsDatabase(path: path))
      try store.insert(record)
      try store.insert(record)
    }
    let reopened = UsageLedger(try AccountsDatabase(path: path))
    #expect(try reopened.count() == 2)
    var back = try #require(try reopened.recent(limit: 1).first)
    #expect(back.id == 2)
    back.id = nil
    back.dailyTokens = 0
    #expect(back == record)
  }

  @Test func metricsUseVLLMNames() {
    let metrics = ServerMetrics(modelName: "m")
    var s = EngineStatistics()
    s.running = 2
    s.waiting = 3
    s.kvBlocksTotal = 10
    s.kvBlocksUsed = 4
    s.promptTokensTotal = 100
    s.prefixQueryTokens = 50
    s.prefixHitTokens = 20
    s.specDrafts = 10
    s.specDraftTokens = 40
    s.specAcceptedTokens = 30
    var timings = RequestTimings()
    timings.ttftSeconds = 0.05
    timings.e2eSeconds = 1
    metrics.observeFinish(
      EngineCompletion(
        finishReason: .stop, promptTokens: 3, completionTokens: 4, cachedPromptTokens: 0, preemptions: 0,
        timings: timings, error: nil))
    let text = metrics.render(statistics: s)
    for line in [
      #"vllm:num_requests_running{model_name="m"} 2"#, #"vllm:num_requests_waiting{model_name="m"} 3"#,
      #"vllm:kv_cache_usage_perc{model_name="m"} 0.4"#, #"vllm:prompt_tokens_total{model_name="m"} 100"#,
      #"vllm:prefix_cache_queries_total{model_name="m"} 50"#, #"vllm:prefix_cache_hits_total{model_name="m"} 20"#,
      #"vllm:time_to_first_token_seconds_count{model_name="m"} 1"#,
      #"vllm:e2e_request_latency_seconds_count{model_name="m"} 1"#,
      #"vllm:spec_decode_num_drafts_total{model_name="m"} 10"#,
      #"vllm:spec_decode_num_draft_tokens_total{model_name="m"} 40"#,
      #"vllm:spec_decode_num_accepted_tokens_total{model_name="m"} 30"#,
      #"peregrine_spec_decode_acceptance_rate{model_name="m"} 0.75"#,
      #"peregrine_spec_decode_mean_accepted_length{model_name="m"} 4.0"#,
    ] {
      #expect(text.contains(line), "\(line)")
    }
    #expect(text.contains("process_resident_memory_bytes"))
    // Counters follow the engine's totals: a second scrape does not add them again.
    let again = metrics.render(statistics: s)
    #expect(again.contains(#"vllm:prompt_tokens_total{model_name="m"} 100"#))
  }

  @Test func timingsCarrySpeculationOnlyWhenUsed() throws {
    var c = EngineCompletion(
      finishReason: .stop, promptTokens: 1, completionTokens: 5, cachedPromptTokens: 0, preemptions: 0,
      timings: RequestTimings(), error: nil)
    let plain = String(decoding: try JSONEncoder().encode(ResponseTimings(c)), as: UTF8.self)
    #expect(!plain.contains("draft_n") && !plain.contains("acceptance_rate"))
    c.timings.draftTokens = 8
    c.timings.acceptedTokens = 6
    c.timings.acceptanceRate = 0.75
    c.timings.meanAcceptedLength = 2.5
    let object = try #require(
      JSONSerialization.jsonObject(with: try JSONEncoder().encode(ResponseTimings(c))) as? [String: Any])
    #expect(object["draft_n"] as? Int == 8 && object["draft_n_accepted"] as? Int == 6)
    #expect(object["acceptance_rate"] as? Double == 0.75 && object["mean_accepted_length"] as? Double == 2.5)
  }

  @Test func openAPIDocumentIsJSONAndCoversEveryRoute() throws {
    let doc = try #require(JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
    let paths = try #require(doc["paths"] as? [String: Any])
    for route in [
      "/v1/chat/completions", "/v1/completions", "/v1/models", "/v1/models/{id}", "/tokenize", "/detokenize", "/health",
      "/version", "/metrics", "/openapi.json", "/v1/files", "/v1/files/{id}", "/v1/files/{id}/content", "/v1/batches",
      "/v1/batches/{id}", "/v1/batches/{id}/cancel", "/v1/messages", "/v1/messages/count_tokens", "/v1/responses",
      "/v1/responses/{id}", "/v1/responses/input_tokens", "/api/chat", "/api/generate", "/api/tags", "/api/show",
      "/api/ps", "/api/version", "/v1/stats",
    ] {
      #expect(paths[route] != nil, "\(route)")
    }
  }
}
