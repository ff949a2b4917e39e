import Engine
import Foundation

/// `GET /status`: what this server serves and how busy it is, for `peregrine ps` and dashboards.
struct ServerStatus: Sendable, Encodable {
  struct Sampling: Sendable, Encodable {
    var temperature: Float
    var topK: Int
    var topP: Float
    var minP: Float
    var repeatPenalty: Float

    enum CodingKeys: String, CodingKey {
      case temperature
      case topK = "top_k"
      case topP = "top_p"
      case minP = "min_p"
      case repeatPenalty = "repeat_penalty"
    }
  }

  /// `loading`, `ok`, `draining` or `error`, as `/health` says it.
  var status: String
  var model: String
  var version: String
  var uptimeSeconds: Int
  var maxModelLen: Int?
  var requestsRunning: Int?
  var requestsWaiting: Int?
  var kvCacheUsage: Double?
  var kvCacheType: String?
  /// What requests get for the sampling parameters they leave out.
  var samplingDefaults: Sampling?

  enum CodingKeys: String, CodingKey {
    case status, model, version
    case uptimeSeconds = "uptime_s"
    case maxModelLen = "max_model_len"
    case requestsRunning = "requests_running"
    case requestsWaiting = "requests_waiting"
    case kvCacheUsage = "kv_cache_usage"
    case kvCacheType = "kv_cache_type"
    case samplingDefaults = "sampling_defaults"
  }

  init(_ server: ServerContext) {
    let state = server.host.state
    switch state {
    case .loading: status = "loading"
    case .ready: status = "ok"
    case .draining: status = "draining"
    case .failed: status = "error"
    }
    model = server.configuration.modelName
    version = server.configuration.version
    uptimeSeconds = max(0, Int(Date().timeIntervalSince1970) - server.host.created)
    if let context = server.host.contextIfLoaded {
      maxModelLen = context.contextLength
      let s = context.samplingDefaults
      samplingDefaults = Sampling(
        temperature: s.temperature, topK: s.topK, topP: s.topP, minP: s.minP, repeatPenalty: s.repetitionPenalty)
    }
    if let stats = server.host.engineIfReady?.statistics() {
      requestsRunning = stats.running
      requestsWaiting = stats.waiting
      kvCacheUsage = stats.kvUsage
      kvCacheType = stats.kvCacheType
    }
  }
}
