import Foundation
import Server
import TestSupport
import Tokenizers

@testable import Engine
@testable import Models

/// A stand-in engine for route tests (never shipped): each request yields `min(maxTokens, 3)`
/// tokens whose text is "ab", then finishes; it refuses with `queueFull` when told to, and records
/// what it was sent and cancelled.
final class ScriptedEngine: ServingEngine, @unchecked Sendable {
  let tokenizer: Tokenizer
  let modelInfo: ModelInfo
  private let lock = NSLock()
  private var _submitted: [EngineRequest] = []
  private var _cancelled: [String] = []
  var refuseWith: EngineError?
  /// Delay between tokens, so disconnects can land mid-stream.
  var tokenDelay: Duration = .zero
  var tokensPerRequest = 3
  /// What `statistics()` reports instead of an idle engine of 8 blocks.
  var statisticsOverride: EngineStatistics?
  private var _flushes = 0

  init() throws {
    tokenizer = try Tokenizer(vocabulary: smolLM2Vocabulary())
    modelInfo = ModelInfo(
      architecture: "llama", name: "scripted", vocabularySize: tokenizer.vocabularySize, contextLength: 256, layers: 1,
      embeddingLength: 8)
  }

  var submitted: [EngineRequest] { lock.withLock { _submitted } }
  var cancelled: [String] { lock.withLock { _cancelled } }
  var flushes: Int { lock.withLock { _flushes } }

  func submit(_ request: EngineRequest) throws(EngineError) -> AsyncStream<EngineEvent> {
    if let refuseWith { throw refuseWith }
    lock.withLock { _submitted.append(request) }
    let count = min(request.maxTokens, tokensPerRequest)
    let delay = tokenDelay
    let wantsLogprobs = request.topLogprobs
    return AsyncStream { continuation in
      let task = Task {
        for i in 0..<count {
          if delay > .zero { try? await Task.sleep(for: delay) }
          if Task.isCancelled { break }
          let lp = wantsLogprobs.map { _ in TokenLogprob(id: 1, text: "ab", logprob: -0.25) }
          let top = (0..<(wantsLogprobs ?? 0)).map { TokenLogprob(id: Int32($0), text: "t\($0)", logprob: -Float($0)) }
          continuation.yield(
            .token(GeneratedToken(id: 1, text: "ab", logprob: lp, topLogprobs: top, time: Double(i) * 0.01)))
        }
        var timings = RequestTimings()
        timings.ttftSeconds = 0.01
        timings.e2eSeconds = 0.03
        continuation.yield(
          .finished(
            EngineCompletion(
              finishReason: Task.isCancelled ? .abort : (count == request.maxTokens ? .length : .stop),
              promptTokens: request.promptIDs.count, completionTokens: count, cachedPromptTokens: 0, preemptions: 0,
              timings: timings, error: nil)))
        continuation.finish()
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }

  func cancel(_ id: String) { lock.withLock { _cancelled.append(id) } }

  func flushPrefixCache() { lock.withLock { _flushes += 1 } }

  func statistics() -> EngineStatistics {
    if let statisticsOverride { return statisticsOverride }
    var s = EngineStatistics()
    s.kvBlocksTotal = 8
    return s
  }

  func shutdown(gracePeriod: Duration) async {}
}
