import NIOCore

/// How `peregrine serve` listens and what it enforces. Data only; the CLI fills it from flags.
public struct ServerConfiguration: Sendable {
  public var host = "127.0.0.1"
  public var port = 8080
  /// Accepted bearer tokens; empty means no authentication.
  public var apiKeys: [String] = []
  /// The id clients use as `model` and `/v1/models` lists.
  public var modelName: String
  /// Other names accepted as `model` (e.g. the GGUF file name).
  public var modelAliases: Set<String> = []
  /// What `--model` named (a catalog name or a GGUF path); routers read it as `model_path`.
  public var modelPath: String?
  /// Larger request bodies are refused from their Content-Length, or as soon as the limit is crossed.
  public var maxBodyBytes = 4 << 20
  /// SQLite file for usage records; nil keeps none.
  public var usageDatabasePath: String?
  /// How long in-flight requests may run after SIGTERM/SIGINT before they are aborted.
  public var shutdownGracePeriod: Duration = .seconds(30)
  /// Caps the context a request may use (prompt + generated tokens), below the model's own; requests
  /// without `max_tokens` generate up to it. nil: the model's context length.
  public var maxModelLength: Int?
  /// Browser origins allowed to call the API (CORS); `*` allows any, empty (default) sends no CORS headers.
  public var corsOrigins: [String] = []
  /// Reported by `/version`.
  public var version = "0.1.0"
  /// Open connections at most; past it a new connection gets 503 at once (and is closed).
  public var maxConnections = 1024
  /// From a request's first byte to its complete head; then the connection is closed.
  public var headerTimeout: Duration = .seconds(10)
  /// The longest silence inside a request body; a body short of its Content-Length gets 400.
  public var bodyTimeout: Duration = .seconds(30)
  /// How long an idle keep-alive connection stays open.
  public var keepAliveTimeout: Duration = .seconds(30)
  /// How long a response may wait on a client that does not read before the connection is dropped.
  public var writeTimeout: Duration = .seconds(30)
  /// Bytes of stream events held for a client that reads slower than tokens come; past it the
  /// client is dropped and its generation cancelled.
  public var maxStreamBacklogBytes = 1 << 20
  /// One prefix-cache namespace for all API keys (`--shared-prefix-cache`), instead of one per key.
  public var sharedPrefixCache = false
  /// `--reasoning-format`: split `<think>…</think>` out of chat content (deepseek) or not (none).
  public var reasoningFormat = ReasoningFormat.deepseek
  /// Keys, allowances, prices and the result cache (`Economics/`).
  public var economics = EconomicsSettings()

  /// Where uploaded and batch-written files live (default: `files/` beside the usage database).
  public var filesDirectory: String?
  /// Largest file `POST /v1/files` accepts.
  public var maxFileBytes = 200 << 20
  /// Batch lines in flight at once (over all batches): enough for steps to batch them.
  public var batchConcurrency = 8
  /// A batch's completion window (`24h`) in seconds; past it the batch ends as `expired`.
  public var batchWindowSeconds: Double = 86400
  /// The playground (`/`, `/playground`) and the dashboard (`/dashboard`); `--no-ui` turns them off.
  public var webUI = true

  public init(modelName: String) {
    self.modelName = modelName
  }
}

extension ServerConfiguration {
  /// The connection guards' limits (`ConnectionDeadlines`).
  var connectionLimits: ConnectionLimits {
    func amount(_ d: Duration) -> TimeAmount {
      let (seconds, attoseconds) = d.components
      return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
    var l = ConnectionLimits()
    l.headerTimeout = amount(headerTimeout)
    l.bodyTimeout = amount(bodyTimeout)
    l.keepAliveTimeout = amount(keepAliveTimeout)
    l.writeTimeout = amount(writeTimeout)
    return l
  }
}

extension ServerConfiguration {
  /// Where a person on this machine opens the playground, or nil with `--no-ui`. A wildcard
  /// address is not something a browser can open: it stands for this machine's loopback.
  public var playgroundURL: String? {
    guard webUI else { return nil }
    var name = host
    if ["0.0.0.0", "", "*"].contains(name) { name = "127.0.0.1" }
    if name == "::" { name = "::1" }
    if name.contains(":") { name = "[" + name + "]" }
    return "http://\(name):\(port)/"
  }
}
