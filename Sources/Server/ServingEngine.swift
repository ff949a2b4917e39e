import Engine
import Models
import Tokenizers

/// The part of the inference engine the server drives. `InferenceEngine` conforms; tests use a
/// scripted engine so routes and streaming are checked without weights.
public protocol ServingEngine: AnyObject, Sendable {
  var modelInfo: ModelInfo { get }
  var tokenizer: Tokenizer { get }
  /// Tokens, then exactly one `.finished`; terminating the stream cancels the request.
  func submit(_ request: EngineRequest) throws(EngineError) -> AsyncStream<EngineEvent>
  func cancel(_ id: String)
  func statistics() -> EngineStatistics
  /// Stops accepting, lets in-flight requests finish until the deadline, then aborts the rest.
  func shutdown(gracePeriod: Duration) async
  /// Whether requests may speculate with a draft model.
  var hasDraftModel: Bool { get }
}

extension ServingEngine {
  public var hasDraftModel: Bool { false }
}
