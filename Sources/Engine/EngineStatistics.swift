/// A snapshot of the engine, cheap to read at any time (metrics, health, admission decisions).
public struct EngineStatistics: Sendable, Equatable, Codable {
  public var running = 0
  public var waiting = 0
  public var kvBlocksTotal = 0
  public var kvBlocksUsed = 0
  /// Blocks of the sliding-window layers' own pool (0 when the model has none) and those in use.
  public var kvWindowBlocksTotal = 0
  public var kvWindowBlocksUsed = 0
  /// Most window-pool blocks in use at the end of any step since start.
  public var kvWindowBlocksPeak = 0
  /// How the KV cache stores keys and values (`KVCacheType.rawValue`: "f16" or "q8_0").
  public var kvCacheType = "f16"
  /// Fraction of KV blocks (of the full-history pool) held by running requests (0–1).
  public var kvUsage: Double { kvBlocksTotal > 0 ? Double(kvBlocksUsed) / Double(kvBlocksTotal) : 0 }
  /// Fraction of the sliding-window pool's blocks in use (0 when there is none).
  public var kvWindowUsage: Double {
    kvWindowBlocksTotal > 0 ? Double(kvWindowBlocksUsed) / Double(kvWindowBlocksTotal) : 0
  }
  /// Prompt tokens looked up in / found in the prefix cache since start.
  public var prefixQueryTokens = 0
  public var prefixHitTokens = 0
  public var promptTokensTotal = 0
  public var generationTokensTotal = 0
  public var requestsFinished = 0
  public var preemptionsTotal = 0
  public var steps = 0
  /// Speculative decoding since start: target passes that checked drafts, draft tokens checked,
  /// draft tokens accepted (vLLM's spec_decode counters). Acceptance rate = accepted / draft
  /// tokens; mean accepted length = 1 + accepted / drafts.
  public var specDrafts = 0
  public var specDraftTokens = 0
  public var specAcceptedTokens = 0
  /// Tokens of the running requests (prompt and generated so far: what their KV blocks hold or are
  /// about to) and of the waiting ones: the load a router compares (`/get_load`'s `num_tokens`).
  public var runningTokens = 0
  public var waitingTokens = 0

  public init() {}

  enum CodingKeys: String, CodingKey {
    case running, waiting, steps
    case kvBlocksTotal = "kv_blocks_total"
    case kvBlocksUsed = "kv_blocks_used"
    case kvWindowBlocksTotal = "kv_window_blocks_total"
    case kvWindowBlocksUsed = "kv_window_blocks_used"
    case kvWindowBlocksPeak = "kv_window_blocks_peak"
    case kvCacheType = "kv_cache_type"
    case prefixQueryTokens = "prefix_query_tokens"
    case prefixHitTokens = "prefix_hit_tokens"
    case promptTokensTotal = "prompt_tokens_total"
    case generationTokensTotal = "generation_tokens_total"
    case requestsFinished = "requests_finished"
    case preemptionsTotal = "preemptions_total"
    case specDrafts = "spec_decode_drafts"
    case specDraftTokens = "spec_decode_draft_tokens"
    case specAcceptedTokens = "spec_decode_accepted_tokens"
    case runningTokens = "running_tokens"
    case waitingTokens = "waiting_tokens"
  }
}
