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

  public init(modelName: String) {
    self.modelName = modelName
  }
}
