import Engine
import Foundation
import Prometheus

/// The metrics routers and gateways read under names vLLM used before or beside ours: the Gateway
/// API Inference Extension's endpoint picker falls back to `vllm:gpu_cache_usage_perc`, reads the
/// block size and count from `vllm:cache_config_info` and the adapters from
/// `vllm:lora_requests_info`; older dashboards read `vllm:gpu_prefix_cache_*`.
final class RouterMetrics: Sendable {
  private let registry: PrometheusCollectorRegistry
  private let model: [(String, String)]
  private let gpuCacheUsage: Gauge
  private let gpuPrefixHits: Counter
  private let gpuPrefixQueries: Counter
  private let loraRequests: Gauge
  /// Made once the engine's block size and count are known (labels are fixed at creation).
  private let cacheConfig = LockedBox<Gauge?>(nil)
  /// Prefix-cache totals at the previous scrape: counters advance by the difference.
  private let last = LockedBox((hits: 0, queries: 0))

  init(registry: PrometheusCollectorRegistry, modelName: String) {
    self.registry = registry
    model = [("model_name", modelName)]
    gpuCacheUsage = registry.makeGauge(
      descriptor: .metric("vllm:gpu_cache_usage_perc", "Fraction of KV-cache blocks in use (1 = full); vllm:kv_cache_usage_perc's older name."),
      labels: model)
    gpuPrefixHits = registry.makeCounter(
      descriptor: .metric("vllm:gpu_prefix_cache_hits_total", "Prompt tokens found in the prefix cache; vllm:prefix_cache_hits_total's older name."),
      labels: model)
    gpuPrefixQueries = registry.makeCounter(
      descriptor: .metric(
        "vllm:gpu_prefix_cache_queries_total", "Prompt tokens looked up in the prefix cache; vllm:prefix_cache_queries_total's older name."),
      labels: model)
    // No adapters: the labels are empty and the value is the time of the scrape, as vLLM's is the
    // time of its last update.
    loraRequests = registry.makeGauge(
      descriptor: .metric("vllm:lora_requests_info", "LoRA adapters running and waiting (none: this server loads no adapters)."),
      labels: [("max_lora", "0"), ("running_lora_adapters", ""), ("waiting_lora_adapters", "")])
  }

  func update(statistics s: EngineStatistics?, configuration: EngineConfiguration?) {
    loraRequests.set(Date().timeIntervalSince1970)
    guard let s else { return }
    gpuCacheUsage.set(s.kvUsage)
    last.withLock { last in
      gpuPrefixHits.increment(by: Int64(max(0, s.prefixHitTokens - last.hits)))
      gpuPrefixQueries.increment(by: Int64(max(0, s.prefixQueryTokens - last.queries)))
      last = (s.prefixHitTokens, s.prefixQueryTokens)
    }
    guard let configuration else { return }
    cacheConfig.withLock { gauge in
      guard gauge == nil else { return }
      let made = registry.makeGauge(
        descriptor: .metric("vllm:cache_config_info", "How the KV cache is laid out (the value is always 1)."),
        labels: [
          ("block_size", String(configuration.blockSize)), ("num_gpu_blocks", String(s.kvBlocksTotal)),
          ("cache_dtype", s.kvCacheType), ("enable_prefix_caching", configuration.prefixCaching ? "True" : "False"),
        ])
      made.set(1.0)
      gauge = made
    }
  }
}
