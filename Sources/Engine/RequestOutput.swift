import Constraints
import Foundation
import Models
import Tokenizers

/// Everything the engine keeps per request beyond scheduling: sampling state, text assembly and
/// the stream back to the caller. Touched only by the engine's step thread.
final class RequestOutput {
  let request: EngineRequest
  let continuation: AsyncStream<EngineEvent>.Continuation
  let arrival: UInt64
  var sampler: Sampler
  var detokenizer: StreamingDetokenizer
  var stops: StopSequenceMatcher
  var constraint: (any TokenConstraint)?
  var firstScheduled: UInt64?
  var firstToken: UInt64?
  var prefillStart: UInt64?
  var generated = 0
  /// Set when the request speculates.
  var speculation: SpeculationState?
  /// The draft model's state for this request, made on its first proposal (`.draftModel` only).
  var draftProposer: DraftModelProposer?

  init(request: EngineRequest, continuation: AsyncStream<EngineEvent>.Continuation, tokenizer: Tokenizer, arrival: UInt64) {
    self.request = request
    self.continuation = continuation
    self.arrival = arrival
    sampler = Sampler(request.sampling)
    detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
    stops = StopSequenceMatcher(request.stopSequences)
    constraint = request.constraint
  }

  func seconds(since start: UInt64, to end: UInt64) -> Double { Double(end &- start) / 1e9 }

  /// The completion record for a request ending now.
  func completion(
    _ reason: FinishReason, now: UInt64, cachedPromptTokens: Int, preemptions: Int, error: String? = nil
  ) -> EngineCompletion {
    var t = RequestTimings()
    t.queueSeconds = seconds(since: arrival, to: firstScheduled ?? now)
    t.ttftSeconds = firstToken.map { seconds(since: arrival, to: $0) } ?? 0
    t.e2eSeconds = seconds(since: arrival, to: now)
    if let firstToken, let start = firstScheduled {
      let computed = request.promptIDs.count - cachedPromptTokens
      let prefill = seconds(since: start, to: firstToken)
      t.prefillTokensPerSecond = prefill > 0 ? Double(computed) / prefill : 0
      let decode = seconds(since: firstToken, to: now)
      t.decodeTokensPerSecond = generated > 1 && decode > 0 ? Double(generated - 1) / decode : 0
    }
    if let s = speculation {
      t.draftTokens = s.drafted
      t.acceptedTokens = s.accepted
      t.acceptanceRate = s.drafted > 0 ? Double(s.accepted) / Double(s.drafted) : 0
      t.meanAcceptedLength = s.passes > 0 ? Double(s.accepted) / Double(s.passes) + 1 : 1
    }
    return EngineCompletion(
      finishReason: reason, promptTokens: request.promptIDs.count, completionTokens: generated,
      cachedPromptTokens: cachedPromptTokens, preemptions: preemptions, timings: t, error: error)
  }
}
