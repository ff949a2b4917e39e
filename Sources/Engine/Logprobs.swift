import Foundation

/// Natural-log probabilities from one row of logits (full-vocabulary softmax, before any sampling
/// filter), as OpenAI's `logprobs` reports them.
enum Logprobs {
  /// log Σ exp(logits), computed stably.
  static func logSumExp(_ row: UnsafeBufferPointer<Float>) -> Float {
    var m = -Float.infinity
    for v in row where v > m { m = v }
    guard m.isFinite else { return m }
    var s: Double = 0
    for v in row { s += Double(expf(v - m)) }
    return m + Float(log(s))
  }

  /// The `count` most likely token ids with their log-probabilities, most likely first.
  static func top(_ row: UnsafeBufferPointer<Float>, count: Int, logSumExp lse: Float) -> [(id: Int32, logprob: Float)] {
    guard count > 0 else { return [] }
    var best: [(id: Int32, logit: Float)] = []  // ascending by logit, at most `count`
    best.reserveCapacity(count + 1)
    for (i, v) in row.enumerated() where best.count < count || v > best[0].logit {
      let at = best.firstIndex { $0.logit >= v } ?? best.count
      best.insert((Int32(i), v), at: at)
      if best.count > count { best.removeFirst() }
    }
    return best.reversed().map { ($0.id, $0.logit - lse) }
  }
}
