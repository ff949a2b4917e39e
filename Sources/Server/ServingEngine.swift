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
  /// The choices of one HTTP request, admitted together (all or none) and counted once against
  /// the queue; one stream per request, in order.
  func submit(_ requests: [EngineRequest]) throws(EngineError) -> [AsyncStream<EngineEvent>]
  func cancel(_ id: String)
  func statistics() -> EngineStatistics
  /// Stops accepting, lets in-flight requests finish until the deadline, then aborts the rest.
  func shutdown(gracePeriod: Duration) async
  /// Whether requests may speculate with a draft model.
  var hasDraftModel: Bool { get }
  /// Tokens the KV cache holds in all: no request can be longer.
  var capacityTokens: Int { get }
  /// How the engine was sized, for routers asking `/server_info`; nil when unknown.
  var engineConfiguration: EngineConfiguration? { get }
  /// Forgets every cached prefix (`POST /flush_cache`); running requests keep their blocks.
  func flushPrefixCache()
}

extension ServingEngine {
  public var hasDraftModel: Bool { false }
  public var capacityTokens: Int { .max }
  public var engineConfiguration: EngineConfiguration? { nil }
  public func flushPrefixCache() {}

  /// One request at a time; if one is refused, those already submitted are cancelled.
  public func submit(_ requests: [EngineRequest]) throws(EngineError) -> [AsyncStream<EngineEvent>] {
    var streams: [AsyncStream<EngineEvent>] = []
    for request in requests {
      do {
        streams.append(try submit(request))
      } catch {
        for r in requests.prefix(streams.count) { cancel(r.id) }
        throw error
      }
    }
    return streams
  }
}
