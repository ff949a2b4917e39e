import Constraints
import Foundation

/// One generation the engine is asked to run. Data only: the server and the CLI build these.
public struct EngineRequest: Sendable {
  /// Unique among live requests; `cancel(_:)` takes it.
  public var id: String
  public var promptIDs: [Int32]
  public var sampling: SamplingParameters
  /// Tokens to generate at most.
  public var maxTokens: Int
  /// Keep going past end-of-generation tokens (benchmarks, `ignore_eos`).
  public var ignoreEndOfGeneration: Bool
  /// Generation stops before any of these strings; they never appear in the output text, even when
  /// they straddle tokens.
  public var stopSequences: [String]
  /// Generation stops after any of these tokens (which are not emitted as text).
  public var stopTokenIDs: Set<Int32>
  /// Report the chosen token's log-probability and this many alternatives (0–20); nil for none.
  public var topLogprobs: Int?
  /// Added to the logits of these tokens before sampling (OpenAI's `logit_bias`).
  public var logitBias: [Int32: Float]
  /// Higher runs first when the engine must choose; ties go to the earlier arrival. Below 0 is
  /// background work (`batchPriority`): it runs only when no foreground request is running or
  /// waiting, and a foreground arrival may preempt it for KV blocks.
  public var priority: Int

  /// Batch lines: background work.
  public static let batchPriority = -1
  /// Separates prefix-cache entries of different tenants: blocks are only shared under equal salts.
  public var cacheSalt: String?
  /// Restricts which tokens may be sampled (structured output). Speculation is not used under a
  /// constraint.
  public var constraint: (any TokenConstraint)?
  /// Speculative decoding for this request; nil takes the engine's default
  /// (`EngineConfiguration.speculation`). The output is the same either way (greedy) or has the
  /// same distribution (sampling); only the speed differs.
  public var speculative: SpeculativeMethod?
  /// Draft tokens per target pass at most (1–64); nil takes the engine's default.
  public var draftTokens: Int?

  public init(
    id: String = UUID().uuidString, promptIDs: [Int32], sampling: SamplingParameters = .greedy,
    maxTokens: Int = 256, ignoreEndOfGeneration: Bool = false, stopSequences: [String] = [],
    stopTokenIDs: Set<Int32> = [], topLogprobs: Int? = nil, logitBias: [Int32: Float] = [:],
    priority: Int = 0, cacheSalt: String? = nil, constraint: (any TokenConstraint)? = nil,
    speculative: SpeculativeMethod? = nil, draftTokens: Int? = nil
  ) {
    self.id = id
    self.promptIDs = promptIDs
    self.sampling = sampling
    self.maxTokens = maxTokens
    self.ignoreEndOfGeneration = ignoreEndOfGeneration
    self.stopSequences = stopSequences
    self.stopTokenIDs = stopTokenIDs
    self.topLogprobs = topLogprobs
    self.logitBias = logitBias
    self.priority = priority
    self.cacheSalt = cacheSalt
    self.constraint = constraint
    self.speculative = speculative
    self.draftTokens = draftTokens
  }
}
