import Engine
import Foundation
import Prometheus

/// The Prometheus metrics, under the names vLLM exports so routers and dashboards built for it
/// (Gateway API Inference Extension, llm-d) read Peregrine unchanged.
final class ServerMetrics: Sendable {
  let registry = PrometheusCollectorRegistry()

  private let running: Gauge
  private let waiting: Gauge
  private let kvUsage: Gauge
  private let kvWindowUsage: Gauge
  private let promptTokens: Counter
  private let generationTokens: Counter
  private let prefixQueries: Counter
  private let prefixHits: Counter
  private let preemptions: Counter
  private let specDrafts: Counter
  private let specDraftTokens: Counter
  private let specAcceptedTokens: Counter
  private let specAcceptanceRate: Gauge
  private let specMeanAcceptedLength: Gauge
  private let ttft: ValueHistogram
  private let interToken: ValueHistogram
  private let e2e: ValueHistogram
  private let queueTime: ValueHistogram
  private let promptTokensPerRequest: ValueHistogram
  private let generationTokensPerRequest: ValueHistogram
  private let successByReason: [String: Counter]
  private let httpRequests: [Int: Counter]
  private let process: ProcessMetrics
  /// Engine totals at the previous scrape: counters advance by the difference.
  private let lastTotals = LockedBox(EngineStatistics())
  private let connections: ConnectionRegistry?
  private let openConnections: Gauge
  private let refusedConnections: Counter
  private let closedConnections: [String: Counter]
  private let lastConnectionCounts = LockedBox(ConnectionRegistry.Counts())
  private let routerMetrics: RouterMetrics
  /// The last minutes of TTFT and inter-token gaps, for `/v1/stats` (Web/ServerStats).
  let recentTTFT = RecentSamples(capacity: 4096)
  let recentITL = RecentSamples(capacity: 16384)

  init(modelName: String, connections: ConnectionRegistry? = nil) {
    let model = [("model_name", modelName)]
    running = registry.makeGauge(
      descriptor: .metric("vllm:num_requests_running", "Requests being computed."), labels: model)
    waiting = registry.makeGauge(
      descriptor: .metric("vllm:num_requests_waiting", "Requests waiting to be scheduled."), labels: model)
    kvUsage = registry.makeGauge(
      descriptor: .metric("vllm:kv_cache_usage_perc", "Fraction of KV-cache blocks in use (1 = full)."), labels: model)
    kvWindowUsage = registry.makeGauge(
      descriptor: .metric(
        "peregrine_kv_window_cache_usage_perc",
        "Fraction of the sliding-window layers' KV blocks in use (0 when the model has no such pool)."),
      labels: model)
    promptTokens = registry.makeCounter(
      descriptor: .metric("vllm:prompt_tokens_total", "Prompt tokens processed."), labels: model)
    generationTokens = registry.makeCounter(
      descriptor: .metric("vllm:generation_tokens_total", "Tokens generated."), labels: model)
    prefixQueries = registry.makeCounter(
      descriptor: .metric("vllm:prefix_cache_queries_total", "Prompt tokens looked up in the prefix cache."),
      labels: model)
    prefixHits = registry.makeCounter(
      descriptor: .metric("vllm:prefix_cache_hits_total", "Prompt tokens found in the prefix cache."), labels: model)
    preemptions = registry.makeCounter(
      descriptor: .metric("vllm:num_preemptions_total", "Requests preempted and recomputed."), labels: model)
    specDrafts = registry.makeCounter(
      descriptor: .metric("vllm:spec_decode_num_drafts_total", "Speculative decoding: target passes that checked drafts."),
      labels: model)
    specDraftTokens = registry.makeCounter(
      descriptor: .metric("vllm:spec_decode_num_draft_tokens_total", "Speculative decoding: draft tokens checked."),
      labels: model)
    specAcceptedTokens = registry.makeCounter(
      descriptor: .metric("vllm:spec_decode_num_accepted_tokens_total", "Speculative decoding: draft tokens accepted."),
      labels: model)
    specAcceptanceRate = registry.makeGauge(
      descriptor: .metric(
        "peregrine_spec_decode_acceptance_rate", "Speculative decoding since start: accepted / checked draft tokens."),
      labels: model)
    specMeanAcceptedLength = registry.makeGauge(
      descriptor: .metric(
        "peregrine_spec_decode_mean_accepted_length",
        "Speculative decoding since start: tokens per checking pass (1 + accepted / drafts)."),
      labels: model)
    let latency: [Double] = [
      0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640,
    ]
    let itl: [Double] = [
      0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1,
      2.5, 5, 10,
    ]
    ttft = registry.makeValueHistogram(
      descriptor: .metric("vllm:time_to_first_token_seconds", "Arrival to first token."), labels: model,
      buckets: latency)
    interToken = registry.makeValueHistogram(
      descriptor: .metric("vllm:inter_token_latency_seconds", "Time between consecutive tokens."), labels: model,
      buckets: itl)
    e2e = registry.makeValueHistogram(
      descriptor: .metric("vllm:e2e_request_latency_seconds", "Arrival to finish."), labels: model, buckets: latency)
    queueTime = registry.makeValueHistogram(
      descriptor: .metric("vllm:request_queue_time_seconds", "Arrival to first scheduled."), labels: model,
      buckets: latency)
    let sizes: [Double] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000]
    promptTokensPerRequest = registry.makeValueHistogram(
      descriptor: .metric("vllm:request_prompt_tokens", "Prompt tokens per request."), labels: model, buckets: sizes)
    generationTokensPerRequest = registry.makeValueHistogram(
      descriptor: .metric("vllm:request_generation_tokens", "Generated tokens per request."), labels: model,
      buckets: sizes)
    var byReason: [String: Counter] = [:]
    for reason in ["stop", "length", "abort", "error"] {
      byReason[reason] = registry.makeCounter(
        descriptor: .metric("vllm:request_success_total", "Finished requests by reason."),
        labels: model + [("finished_reason", reason)])
    }
    successByReason = byReason
    var http: [Int: Counter] = [:]
    for status in [200, 400, 401, 404, 405, 413, 429, 499, 500, 503] {
      http[status] = registry.makeCounter(
        descriptor: .metric("peregrine_http_responses_total", "HTTP responses by status."),
        labels: [("status", String(status))])
    }
    httpRequests = http
    process = ProcessMetrics(registry: registry)
    self.connections = connections
    openConnections = registry.makeGauge(
      descriptor: .metric("peregrine_open_connections", "HTTP connections open now."), labels: [])
    refusedConnections = registry.makeCounter(
      descriptor: .metric(
        "peregrine_connections_refused_total", "Connections answered 503 at once because --max-connections were open."),
      labels: [])
    var closed: [String: Counter] = [:]
    for reason in ["header_timeout", "body_timeout", "keep_alive_timeout", "write_timeout", "closed_after_response"] {
      closed[reason] = registry.makeCounter(
        descriptor: .metric("peregrine_connections_closed_total", "Connections the server closed, by reason."),
        labels: [("reason", reason)])
    }
    closedConnections = closed
    routerMetrics = RouterMetrics(registry: registry, modelName: modelName)
  }

  /// Inter-token latency, from the gap between a choice's consecutive tokens.
  func observeToken(_ token: GeneratedToken, previousTime: Double?) {
    guard let previousTime else { return }
    let gap = max(0, token.time - previousTime)
    interToken.record(gap)
    recentITL.record(gap)
  }

  func observeFinish(_ c: EngineCompletion) {
    successByReason[c.finishReason.rawValue]?.increment()
    queueTime.record(c.timings.queueSeconds)
    if c.completionTokens > 0 {
      ttft.record(c.timings.ttftSeconds)
      recentTTFT.record(c.timings.ttftSeconds)
    }
    e2e.record(c.timings.e2eSeconds)
    promptTokensPerRequest.record(Double(c.promptTokens))
    generationTokensPerRequest.record(Double(c.completionTokens))
  }

  /// Choices whose client left before they finished (their engine events are no longer read).
  func observeAbandoned(_ count: Int) {
    if count > 0 { successByReason["abort"]?.increment(by: Int64(count)) }
  }

  func observeResponse(status: Int) {
    httpRequests[status]?.increment()
  }

  /// Brings gauges and engine-total counters up to date and renders the text exposition format.
  /// `configuration` (the engine's) labels `vllm:cache_config_info`.
  func render(statistics s: EngineStatistics?, configuration: EngineConfiguration? = nil) -> String {
    routerMetrics.update(statistics: s, configuration: configuration)
    if let s {
      running.set(Double(s.running))
      waiting.set(Double(s.waiting))
      kvUsage.set(s.kvUsage)
      kvWindowUsage.set(s.kvWindowUsage)
      specAcceptanceRate.set(s.specDraftTokens > 0 ? Double(s.specAcceptedTokens) / Double(s.specDraftTokens) : 0)
      specMeanAcceptedLength.set(s.specDrafts > 0 ? 1 + Double(s.specAcceptedTokens) / Double(s.specDrafts) : 0)
      lastTotals.withLock { last in
        promptTokens.increment(by: Int64(max(0, s.promptTokensTotal - last.promptTokensTotal)))
        generationTokens.increment(by: Int64(max(0, s.generationTokensTotal - last.generationTokensTotal)))
        prefixQueries.increment(by: Int64(max(0, s.prefixQueryTokens - last.prefixQueryTokens)))
        prefixHits.increment(by: Int64(max(0, s.prefixHitTokens - last.prefixHitTokens)))
        preemptions.increment(by: Int64(max(0, s.preemptionsTotal - last.preemptionsTotal)))
        specDrafts.increment(by: Int64(max(0, s.specDrafts - last.specDrafts)))
        specDraftTokens.increment(by: Int64(max(0, s.specDraftTokens - last.specDraftTokens)))
        specAcceptedTokens.increment(by: Int64(max(0, s.specAcceptedTokens - last.specAcceptedTokens)))
        last = s
      }
    }
    if let connections {
      let now = connections.counts
      openConnections.set(Double(now.open))
      lastConnectionCounts.withLock { last in
        refusedConnections.increment(by: Int64(max(0, now.refused - last.refused)))
        for (reason, counter) in closedConnections {
          counter.increment(by: Int64(max(0, now.closed[reason, default: 0] - last.closed[reason, default: 0])))
        }
        last = now
      }
    }
    process.update()
    return registry.emitToString()
  }
}

extension MetricNameDescriptor {
  /// A descriptor that keeps `name` exactly (vLLM's names hold a colon, which the namespace and
  /// unit parts of a descriptor would not produce).
  static func metric(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
  }
}
