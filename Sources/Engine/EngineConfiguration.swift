import Foundation
import Models

/// How an `InferenceEngine` is sized. Defaults suit a small CPU box serving a handful of users.
public struct EngineConfiguration: Sendable, Equatable {
  /// Positions per KV block.
  public var blockSize = 16
  /// Memory for the KV cache; nil takes a quarter of available RAM, at most 2 GiB.
  public var kvCacheBytes: Int? = nil
  /// How keys and values are stored: `.f16` (default; `Numerics.exact` output equals llama.cpp's) or
  /// `.q8_0` (~1.88× the positions in the same budget, f32 attention at every position).
  public var kvCacheType = KVCacheType.f16
  /// Tokens per step (decodes plus prefill chunks): smaller keeps running streams smooth while a long
  /// prompt is prefilled, larger finishes prefills sooner.
  public var maxBatchTokens = 256
  /// Sequences per step at most.
  public var maxRunning = 64
  /// Queued requests at most; beyond it `submit` refuses with `queueFull`.
  public var maxWaiting = 256
  public var prefixCaching = true
  /// Speculative decoding for requests that do not choose (`EngineRequest.speculative`).
  public var speculation = EngineSpeculation()
  /// Testing aid: preempt the newest running request every this many steps.
  public var preemptEverySteps: Int? = nil

  public init() {}

  /// The KV budget in bytes this configuration resolves to on this machine.
  public func resolvedKVCacheBytes() -> Int {
    if let kvCacheBytes { return kvCacheBytes }
    let quarter = EngineConfiguration.availableMemoryBytes() / 4
    return max(64 << 20, min(quarter, 2 << 30))
  }

  /// MemAvailable from /proc/meminfo (physical memory where that is missing).
  static func availableMemoryBytes() -> Int { SystemMemory.availableBytes() }
}
