import Engine
import Foundation

/// `GET /v1/stats`: one sample of what `/metrics` exports, as JSON a page can plot. Gauges are
/// current values; `*_total` are counters since start (a page takes rates between two samples);
/// latency percentiles cover the last `window_s` seconds.
struct ServerStats: Sendable, Encodable {
  struct Economics: Sendable, Encodable {
    var billedDollarsTotal: Double
    var machineDollarsTotal: Double?
    var quotaRefusalsTotal: Int
    enum CodingKeys: String, CodingKey {
      case billedDollarsTotal = "billed_dollars_total"
      case machineDollarsTotal = "machine_cost_dollars_total"
      case quotaRefusalsTotal = "quota_refusals_total"
    }
  }

  var object = "server.stats"
  /// Unix seconds, fractional.
  var time: Double
  var status: String
  var model: String
  var apiKeyRequired: Bool
  var usageRecords: Bool
  var requestsRunning = 0
  var requestsWaiting = 0
  var kvCacheUsage = 0.0
  var prefixCacheQueriesTotal = 0
  var prefixCacheHitsTotal = 0
  var promptTokensTotal = 0
  var generationTokensTotal = 0
  var requestsFinishedTotal = 0
  var windowSeconds: Double
  var ttft: RecentSamples.Summary
  var itl: RecentSamples.Summary
  var economics: Economics?

  enum CodingKeys: String, CodingKey {
    case object, time, status, model, economics
    case apiKeyRequired = "api_key_required"
    case usageRecords = "usage_records"
    case requestsRunning = "requests_running"
    case requestsWaiting = "requests_waiting"
    case kvCacheUsage = "kv_cache_usage"
    case prefixCacheQueriesTotal = "prefix_cache_queries_total"
    case prefixCacheHitsTotal = "prefix_cache_hits_total"
    case promptTokensTotal = "prompt_tokens_total"
    case generationTokensTotal = "generation_tokens_total"
    case requestsFinishedTotal = "requests_finished_total"
    case windowSeconds = "window_s"
    case ttft = "ttft_s"
    case itl = "itl_s"
  }

  init(_ server: ServerContext, window: Double = 60) {
    time = Date().timeIntervalSince1970
    status = ServerStatus(server).status
    model = server.configuration.modelName
    // What a request without any key gets: the page shows its key field when this is true.
    apiKeyRequired =
      (try? server.metering.authenticate(authorization: nil, apiKeyHeader: nil, clientAddress: nil)) == nil
    usageRecords = server.accounts != nil
    if let s = server.host.engineIfReady?.statistics() {
      requestsRunning = s.running
      requestsWaiting = s.waiting
      kvCacheUsage = s.kvUsage
      prefixCacheQueriesTotal = s.prefixQueryTokens
      prefixCacheHitsTotal = s.prefixHitTokens
      promptTokensTotal = s.promptTokensTotal
      generationTokensTotal = s.generationTokensTotal
      requestsFinishedTotal = s.requestsFinished
    }
    windowSeconds = window
    ttft = server.metrics.recentTTFT.summary(window: window)
    itl = server.metrics.recentITL.summary(window: window)
    let settings = server.configuration.economics
    if settings.prices != nil || settings.machineCostPerHour != nil {
      let t = server.metering.snapshot
      economics = Economics(
        billedDollarsTotal: t.billedDollars,
        machineDollarsTotal: settings.machineCostPerHour.map { server.metering.clock.busySeconds * $0 / 3600 },
        quotaRefusalsTotal: t.refusals)
    }
  }
}
