import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import Engine
@testable import Server

/// The routes and metrics a router in front of many replicas reads (sglang-router, the Gateway API
/// Inference Extension), in process over a scripted engine; and the HTTP/2 preface refusal on an
/// embedded channel. Tests/Router/router_test.py drives the same through the real router.
@Suite struct WorkerRouteTests {
  func makeApp(engine: ScriptedEngine?, keys: [String] = []) -> some ApplicationProtocol {
    var configuration = ServerConfiguration(modelName: "scripted")
    configuration.apiKeys = keys
    configuration.modelPath = "/models/scripted.gguf"
    let server = ServerContext(configuration: configuration, accounts: nil, logger: Logger(label: "test"))
    if let engine {
      let served = ServedModel(engine: engine, template: .chatML(defaultSystem: nil))
      server.host.set(.ready(engine: engine, context: ModelContext(served: served, name: "scripted", aliases: [])))
    }
    return Application(router: Routes.router(server))
  }

  func object(_ buffer: ByteBuffer) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
  }

  @Test func getLoadReportsRequestsAndTokens() async throws {
    let engine = try ScriptedEngine()
    var s = EngineStatistics()
    s.running = 2
    s.waiting = 3
    s.runningTokens = 700
    s.waitingTokens = 45
    engine.statisticsOverride = s
    try await makeApp(engine: engine).test(.router) { client in
      try await client.execute(uri: "/get_load", method: .get) { r in
        #expect(r.status == .ok)
        let ranks = try #require(JSONSerialization.jsonObject(with: Data(r.body.readableBytesView)) as? [[String: Any]])
        #expect(ranks.count == 1)
        #expect(ranks[0]["dp_rank"] as? Int == 0)
        #expect(ranks[0]["num_reqs"] as? Int == 5)
        #expect(ranks[0]["num_waiting_reqs"] as? Int == 3)
        #expect(ranks[0]["num_tokens"] as? Int == 745)
      }
    }
  }

  @Test func serverAndModelInfoUnderBothNames() async throws {
    let engine = try ScriptedEngine()
    try await makeApp(engine: engine).test(.router) { client in
      for path in ["/server_info", "/get_server_info"] {
        try await client.execute(uri: path, method: .get) { r in
          #expect(r.status == .ok, "\(path)")
          let info = try object(r.body)
          #expect(info["served_model_name"] as? String == "scripted")
          #expect(info["model_path"] as? String == "/models/scripted.gguf")
          #expect(info["tp_size"] as? Int == 1 && info["dp_size"] as? Int == 1)
          #expect(info["context_length"] as? Int == 256)
        }
      }
      for path in ["/model_info", "/get_model_info"] {
        try await client.execute(uri: path, method: .get) { r in
          #expect(r.status == .ok, "\(path)")
          let info = try object(r.body)
          #expect(info["served_model_name"] as? String == "scripted")
          #expect(info["model_type"] as? String == "llama")
          #expect(info["architectures"] as? [String] == ["LlamaForCausalLM"])
          #expect(info["context_length"] as? Int == 256)
          #expect(info["is_generation"] as? Bool == true)
        }
      }
    }
  }

  @Test func workerRoutesAre503WhileLoading() async throws {
    try await makeApp(engine: nil).test(.router) { client in
      for path in ["/get_load", "/server_info", "/model_info"] {
        try await client.execute(uri: path, method: .get) { r in #expect(r.status.code == 503, "\(path)") }
      }
      try await client.execute(uri: "/flush_cache", method: .post) { r in #expect(r.status.code == 503) }
    }
  }

  @Test func flushCacheReachesTheEngineAndNeedsAKey() async throws {
    let engine = try ScriptedEngine()
    try await makeApp(engine: engine, keys: ["sk-a"]).test(.router) { client in
      try await client.execute(uri: "/flush_cache", method: .post) { r in #expect(r.status.code == 401) }
      #expect(engine.flushes == 0)
      try await client.execute(uri: "/flush_cache", method: .post, headers: [.authorization: "Bearer sk-a"]) { r in
        #expect(r.status == .ok)
      }
      try await client.execute(uri: "/flush_cache", method: .get, headers: [.authorization: "Bearer sk-a"]) { r in
        #expect(r.status == .ok)
      }
      #expect(engine.flushes == 2)
      // What the router polls needs no key (a router's own key would merge every tenant's cache).
      for path in ["/get_load", "/server_info", "/get_server_info", "/model_info", "/get_model_info"] {
        try await client.execute(uri: path, method: .get) { r in #expect(r.status == .ok, "\(path)") }
      }
      try await client.execute(uri: "/v1/models", method: .get) { r in #expect(r.status.code == 401) }
    }
  }

  @Test func smgsPlaceholderModelMeansTheServedOne() async throws {
    // smg writes "model": "unknown" into a forwarded request that named none.
    let engine = try ScriptedEngine()
    try await makeApp(engine: engine).test(.router) { client in
      try await client.execute(
        uri: "/v1/chat/completions", method: .post,
        body: ByteBuffer(string: #"{"model":"unknown","messages":[{"role":"user","content":"hi"}]}"#)
      ) { r in #expect(r.status == .ok) }
      try await client.execute(
        uri: "/v1/chat/completions", method: .post,
        body: ByteBuffer(string: #"{"model":"other","messages":[{"role":"user","content":"hi"}]}"#)
      ) { r in #expect(r.status.code == 404) }
    }
  }

  @Test func metricsCarryTheNamesGatewaysRead() {
    let metrics = ServerMetrics(modelName: "m")
    var s = EngineStatistics()
    s.kvBlocksTotal = 10
    s.kvBlocksUsed = 4
    s.prefixQueryTokens = 50
    s.prefixHitTokens = 20
    var configuration = EngineConfiguration()
    configuration.blockSize = 16
    let text = metrics.render(statistics: s, configuration: configuration)
    for line in [
      #"vllm:gpu_cache_usage_perc{model_name="m"} 0.4"#,
      #"vllm:gpu_prefix_cache_queries_total{model_name="m"} 50"#,
      #"vllm:gpu_prefix_cache_hits_total{model_name="m"} 20"#,
      #"block_size="16""#, #"num_gpu_blocks="10""#, #"enable_prefix_caching="True""#,
      #"vllm:lora_requests_info{max_lora="0",running_lora_adapters="",waiting_lora_adapters=""}"#,
    ] {
      #expect(text.contains(line), "\(line)")
    }
    #expect(text.contains("vllm:cache_config_info{"))
    // Aliases follow the engine's totals like the originals: a second scrape adds nothing.
    s.prefixHitTokens = 30
    let again = metrics.render(statistics: s, configuration: configuration)
    #expect(again.contains(#"vllm:gpu_prefix_cache_hits_total{model_name="m"} 30"#))
    #expect(again.components(separatedBy: "vllm:cache_config_info{").count == 2)
  }

  @Test func huggingFaceNamesOfGGUFArchitectures() {
    #expect(WorkerModelInfo.huggingFaceNames(ggufArchitecture: "llama") == ("llama", ["LlamaForCausalLM"]))
    #expect(WorkerModelInfo.huggingFaceNames(ggufArchitecture: "gemma3") == ("gemma3_text", ["Gemma3ForCausalLM"]))
    #expect(WorkerModelInfo.huggingFaceNames(ggufArchitecture: "qwen2") == ("qwen2", ["Qwen2ForCausalLM"]))
  }

  // MARK: - HTTP/2 preface

  func channel() throws -> EmbeddedChannel {
    let channel = EmbeddedChannel()
    try channel.pipeline.syncOperations.addHandler(HTTP2PrefaceRejector(linger: .milliseconds(10)))
    return channel
  }

  @Test func anHTTP2PrefaceGetsSettingsAndGoaway() throws {
    let channel = try channel()
    // Split across reads, as a socket may deliver it; the client's SETTINGS follow at once.
    try channel.writeInbound(ByteBuffer(string: "PRI * HTTP/2.0\r\n"))
    #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
    try channel.writeInbound(ByteBuffer(string: "\r\nSM\r\n\r\n\u{0}\u{0}\u{0}\u{4}\u{0}\u{0}\u{0}\u{0}\u{0}"))
    var out = try #require(try channel.readOutbound(as: ByteBuffer.self))
    let bytes = out.readBytes(length: out.readableBytes)!
    #expect(Array(bytes[0..<9]) == [0, 0, 0, 0x4, 0, 0, 0, 0, 0])  // empty SETTINGS
    #expect(bytes[12] == 0x7)  // GOAWAY
    #expect(Array(bytes[22..<26]) == [0, 0, 0, 0xd])  // HTTP_1_1_REQUIRED
    #expect(String(decoding: bytes[26...], as: UTF8.self).contains("HTTP/1.1"))
    // Nothing reached the HTTP/1 codec.
    #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
    _ = try? channel.finish()
  }

  @Test func http1RequestsPassUntouched() throws {
    for request in ["POST /v1/completions HTTP/1.1\r\n\r\n", "PUT / HTTP/1.1\r\n\r\n", "P"] {
      let channel = try channel()
      try channel.writeInbound(ByteBuffer(string: request))
      if request == "P" {
        // Could still be a preface: held until the next bytes or the end of input.
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
      }
      let passed = try #require(try channel.readInbound(as: ByteBuffer.self))
      #expect(String(buffer: passed) == request)
      #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
      _ = try? channel.finish()
    }
  }
}
