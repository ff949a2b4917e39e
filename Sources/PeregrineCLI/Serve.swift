import ArgumentParser
import Engine
import Foundation
import Hub
import Logging
import Models
import Server

struct Serve: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Serve the model over an OpenAI-compatible HTTP API.",
    discussion: """
      Binds the port first (a busy port fails at once), then loads the model in the background:
      /health answers 503 until it is ready. SIGTERM or SIGINT stops accepting requests (/health: 503
      draining), lets running ones finish for --shutdown-grace seconds, then exits; a second SIGINT
      exits at once. Requests that leave sampling parameters out get the model's recommended ones
      (GGUF general.sampling.*), else llama.cpp's defaults. Endpoints, parameters, metrics:
      docs/server.md.
      """)

  @OptionGroup var modelOptions: ModelOptions
  @Option(help: "Address to listen on.") var host = "127.0.0.1"
  @Option(help: "Port to listen on.") var port = 8080
  @Option(
    name: .customLong("api-key"),
    help: "Require 'Authorization: Bearer <key>' on the API routes (repeat for several keys; also PEREGRINE_API_KEY).")
  var apiKeys: [String] = []
  @Option(
    name: .customLong("cors-origin"),
    help: "Let web pages from this origin call the API (e.g. http://localhost:3000; '*' for any; repeatable). Off by default.")
  var corsOrigins: [String] = []
  @Option(name: .customLong("served-model-name"), help: "The id clients send as 'model' (default: the model's name).")
  var servedModelName: String?
  @Option(name: .customLong("max-batch-tokens"), help: "Tokens the engine computes per step at most.")
  var maxBatchTokens = EngineConfiguration().maxBatchTokens
  @Option(name: .customLong("max-running"), help: "Requests decoded together at most.") var maxRunning = 64
  @Option(name: .customLong("max-waiting"), help: "Requests queued at most; more get 429.") var maxWaiting = 256
  @Option(
    name: .customLong("kv-cache-memory"),
    help: "KV cache size, e.g. 512MiB or 2GiB (default: a quarter of free memory, at most 2GiB).")
  var kvCacheMemory: ByteSize?
  @Option(
    name: .customLong("kv-cache-type"),
    help: ArgumentHelp(
      "How the KV cache stores keys and values: f16, or q8_0 (~1.88× the tokens in the same memory, f32 attention; output no longer bit-identical to llama.cpp's f16 cache).",
      valueName: "f16|q8_0"))
  var kvCacheType: KVCacheType = .f16
  @Flag(name: .customLong("no-prefix-caching"), help: "Do not share KV blocks between requests with a common prefix.")
  var noPrefixCaching = false
  @Option(
    name: .customLong("usage-db"),
    help: "SQLite file for per-request usage records (default ~/.cache/peregrine/usage.sqlite; 'none' keeps none).")
  var usageDB: String?
  @Option(name: .customLong("max-body-bytes"), help: "Largest request body accepted.") var maxBodyBytes = 4 << 20
  @Option(
    name: .customLong("max-model-len"),
    help: "Context a request may use (prompt + generated tokens), if below the model's own.")
  var maxModelLength: Int?
  @Option(name: .customLong("shutdown-grace"), help: "Seconds running requests may finish after SIGTERM.")
  var shutdownGrace = 30
  @Option(name: .customLong("max-connections"), help: "Open connections at most; more get 503 at once.")
  var maxConnections = 1024
  @Option(name: .customLong("header-timeout"), help: "Seconds a client may take to send a request's head.")
  var headerTimeout = 10.0
  @Option(name: .customLong("body-timeout"), help: "Seconds of silence allowed inside a request body (then 400).")
  var bodyTimeout = 30.0
  @Option(name: .customLong("keep-alive-timeout"), help: "Seconds an idle keep-alive connection stays open.")
  var keepAliveTimeout = 30.0
  @Option(
    name: .customLong("write-timeout"),
    help: "Seconds a response may wait on a client that stopped reading before the connection is dropped.")
  var writeTimeout = 30.0
  @Flag(
    name: .customLong("shared-prefix-cache"),
    help: "One prefix cache for all API keys (default: one per key; requests can still separate with cache_salt).")
  var sharedPrefixCache = false
  @Flag(
    name: .customLong("no-ui"),
    help: "Serve no web pages: no playground at / and /playground, no /dashboard (the API is unchanged).")
  var noUI = false
  @Option(
    name: .customLong("reasoning-format"),
    help: ArgumentHelp(
      "deepseek: thinking (<think>…</think>) goes to message.reasoning_content and .reasoning; none: it stays in content.",
      valueName: "none|deepseek"))
  var reasoningFormat: ReasoningFormat = .deepseek
  @OptionGroup(title: "Keys, allowances, prices and the result cache") var economics: EconomicsFlags
  @OptionGroup(title: "Files and batches (/v1/files, /v1/batches)") var batch: BatchFlags
  @OptionGroup(title: "Speculative decoding (the default for requests; they may choose with \"speculative\")")
  var speculation: SpeculationFlags

  func validate() throws {
    guard (1...65535).contains(port) || port == 0 else { throw ValidationError("--port must be between 1 and 65535") }
    guard maxBatchTokens >= 16 else { throw ValidationError("--max-batch-tokens must be at least 16") }
    guard maxRunning >= 1, maxWaiting >= 0 else {
      throw ValidationError("--max-running must be ≥ 1 and --max-waiting ≥ 0")
    }
    guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024") }
    guard shutdownGrace >= 0 else { throw ValidationError("--shutdown-grace must be ≥ 0") }
    if corsOrigins.contains(where: { $0 != "*" && !($0.hasPrefix("http://") || $0.hasPrefix("https://")) }) {
      throw ValidationError("--cors-origin takes an origin such as http://localhost:3000, or '*'")
    }
    guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
    for (flag, seconds) in [
      ("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout), ("--keep-alive-timeout", keepAliveTimeout),
      ("--write-timeout", writeTimeout),
    ] where !(seconds.isFinite && seconds > 0 && seconds <= 86_400) {
      throw ValidationError("\(flag) must be between 0 and 86400 seconds, got \(seconds)")
    }
    if let kvCacheMemory, let why = ByteSize.kvCacheProblem(kvCacheMemory) { throw ValidationError(why) }
  }

  func run() async throws {
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = .info
      return handler
    }
    let logger = Logger(label: "peregrine.server")
    var configuration = ServerConfiguration(modelName: servedModelName ?? modelOptions.displayName)
    configuration.modelAliases = [modelOptions.model, URL(fileURLWithPath: modelOptions.model).lastPathComponent]
    configuration.modelPath = modelOptions.model
    configuration.host = host
    configuration.port = port
    configuration.apiKeys = apiKeys
    if let key = ProcessInfo.processInfo.environment["PEREGRINE_API_KEY"], !key.isEmpty {
      configuration.apiKeys.append(key)
    }
    configuration.maxBodyBytes = maxBodyBytes
    configuration.corsOrigins = corsOrigins
    if let maxModelLength {
      guard maxModelLength > 0 else { throw ValidationError("--max-model-len must be positive") }
      configuration.maxModelLength = maxModelLength
    }
    configuration.shutdownGracePeriod = .seconds(shutdownGrace)
    configuration.maxConnections = maxConnections
    configuration.headerTimeout = .milliseconds(Int(headerTimeout * 1000))
    configuration.bodyTimeout = .milliseconds(Int(bodyTimeout * 1000))
    configuration.keepAliveTimeout = .milliseconds(Int(keepAliveTimeout * 1000))
    configuration.writeTimeout = .milliseconds(Int(writeTimeout * 1000))
    configuration.sharedPrefixCache = sharedPrefixCache
    configuration.webUI = !noUI
    configuration.reasoningFormat = reasoningFormat
    configuration.version = Peregrine.configuration.version
    switch usageDB {
    case "none": configuration.usageDatabasePath = nil
    case let path?: configuration.usageDatabasePath = path
    case nil:
      configuration.usageDatabasePath =
        FileManager.default.homeDirectoryForCurrentUser
        .appendingPathComponent(".cache/peregrine/usage.sqlite").path
    }
    configuration.economics = try economics.settings(usageDatabase: configuration.usageDatabasePath != nil)
    try batch.apply(to: &configuration)
    var engineConfiguration = EngineConfiguration()
    engineConfiguration.maxBatchTokens = maxBatchTokens
    engineConfiguration.maxRunning = maxRunning
    engineConfiguration.maxWaiting = maxWaiting
    engineConfiguration.prefixCaching = !noPrefixCaching
    engineConfiguration.kvCacheBytes = kvCacheMemory?.bytes
    engineConfiguration.kvCacheType = kvCacheType
    engineConfiguration.speculation = speculation.engineDefault()
    let options = modelOptions
    let speculationFlags = speculation
    let engineSettings = engineConfiguration
    let server = PeregrineServer(configuration: configuration, logger: logger) {
      let loaded = try options.load()
      let engine = try InferenceEngine(
        model: loaded.model, tokenizer: loaded.tokenizer, configuration: engineSettings,
        draftModel: try speculationFlags.loadDraftModel(pool: loaded.pool), logger: Logger(label: "peregrine.engine"))
      return ServedModel(engine: engine, template: loaded.template, samplingDefaults: loaded.samplingDefaults)
    }
    do { try await server.run() } catch { throw CLIError(error) }
  }
}

extension ReasoningFormat: ExpressibleByArgument {}
