/// Who drafts tokens for a request in the serving engine (speculative decoding).
public enum SpeculativeMethod: String, Sendable, Codable, CaseIterable {
  /// One token per target pass (spelled "none"; not `.none`, which `SpeculativeMethod?` already means).
  case off = "none"
  /// Prompt lookup over the request's own tokens (`NGramProposer`): free to run, strong when the
  /// output copies its input.
  case ngram
  /// The engine's draft model (`InferenceEngine(draftModel:)`) drafts greedily, with a KV cache of its
  /// own per request (`DraftModelProposer`).
  case draftModel = "draft_model"
}

/// Speculative decoding settings: the engine's default for requests that do not choose.
public struct EngineSpeculation: Sendable, Equatable {
  public var method: SpeculativeMethod = .off
  /// Draft tokens per target pass at most; the engine adapts below it from the acceptance rate.
  public var draftTokens = 5
  /// Drafts join a step only while it holds fewer tokens than this (decodes, drafts and prompt
  /// chunks together). Up to one register tile of activation rows (4 with AVX-512) a CPU step
  /// costs little more than one row; past it, cost grows nearly in proportion (SmolLM2-135M,
  /// 2 threads: 1 row 3.7 ms, 4 rows 5.0 ms, 7 rows 10.8 ms, 8 rows 10 ms). So by default one
  /// request drafts up to 3 tokens, two up to 2 in total, and a batch of 4 or more none: there
  /// speculation only slowed the batch (C=4: 0.5–0.7×).
  public var maxStepTokens = 4

  /// Largest `draftTokens` accepted (the same bound `run --draft-tokens` has).
  public static let maxDraftTokens = 64

  public init(method: SpeculativeMethod = .off, draftTokens: Int = 5, maxStepTokens: Int = 4) {
    self.method = method
    self.draftTokens = draftTokens
    self.maxStepTokens = maxStepTokens
  }
}

/// One request's speculation as it runs: the adaptive draft length and what was drafted and kept.
struct SpeculationState {
  let method: SpeculativeMethod
  let maxDraft: Int
  /// Draft tokens asked for next: longer after full acceptance, shorter below 50 %.
  var limit: Int
  /// Target passes that checked drafts, draft tokens checked, draft tokens accepted.
  var passes = 0
  var drafted = 0
  var accepted = 0

  init(method: SpeculativeMethod, maxDraft: Int) {
    self.method = method
    self.maxDraft = maxDraft
    limit = maxDraft
  }

  /// Adapts the draft length as `Generator` does, after `kept` of `count` drafts were accepted.
  mutating func record(kept: Int, of count: Int) {
    passes += 1
    drafted += count
    accepted += kept
    if kept == count {
      limit = min(maxDraft, limit + 1)
    } else if kept * 2 < count {
      limit = max(1, limit - 1)
    }
  }
}
