import Models

/// Why the engine refused a request. Each case carries what a client needs to fix it.
public enum EngineError: Error, Equatable, CustomStringConvertible {
  case invalidParameters(String)
  case promptTooLong(promptTokens: Int, maxTokens: Int, contextLength: Int)
  /// The prompt alone needs more KV blocks than the whole cache has.
  case exceedsCacheCapacity(neededTokens: Int, capacityTokens: Int)
  case queueFull(waiting: Int, retryAfterSeconds: Int)
  case duplicateRequestID(String)
  case shuttingDown

  public var description: String {
    switch self {
    case .invalidParameters(let why): "invalid parameters: \(why)"
    case .promptTooLong(let p, let m, let c):
      "prompt (\(p) tokens) plus max_tokens (\(m)) is \(p.addingReportingOverflow(m).overflow ? "more than \(Int.max)" : String(p + m)) tokens, more than the context length (\(c))"
    case .exceedsCacheCapacity(let n, let c):
      "request needs \(n) tokens of KV cache but the whole cache holds \(c)"
    case .queueFull(let w, _): "the queue is full (\(w) requests waiting); retry later"
    case .duplicateRequestID(let id): "a request with id \(id) is already running"
    case .shuttingDown: "the engine is shutting down"
    }
  }
}
