import Foundation

/// Picks next tokens from logits: penalties, then top-k → top-p → min-p → temperature → a seeded
/// draw (llama.cpp's default order); greedy when the temperature is 0.
public struct Sampler: Sendable {
  public let parameters: SamplingParameters
  private var random: SeededRandom

  public init(_ parameters: SamplingParameters) {
    self.parameters = parameters
    random = SeededRandom(seed: parameters.seed)
  }

  /// Chooses a token from one row of logits; `history` is every token of the sequence so far.
  public mutating func sample(_ logits: ArraySlice<Float>, history: [Int32]) -> Int32 {
    let d = distribution(logits, history: history)
    return d.count == 1 ? d[0].id : draw(d)
  }

  /// The distribution the sampler draws from: penalties, then top-k → top-p → min-p → temperature.
  /// Greedy (temperature 0) is a single token with probability 1. Most likely first.
  public func distribution(_ logits: ArraySlice<Float>, history: [Int32]) -> [(id: Int32, p: Float)] {
    let p = parameters
    var penalized: [Int: Float] = [:]
    let penaltiesActive = p.repetitionPenalty != 1 || p.frequencyPenalty != 0 || p.presencePenalty != 0
    if penaltiesActive && p.penaltyWindow > 0 {
      var counts: [Int32: Int] = [:]
      for id in history.suffix(p.penaltyWindow) { counts[id, default: 0] += 1 }
      for (id, count) in counts where Int(id) < logits.count {
        var l = logits[logits.startIndex + Int(id)]
        l = l > 0 ? l / p.repetitionPenalty : l * p.repetitionPenalty
        l -= Float(count) * p.frequencyPenalty + p.presencePenalty
        penalized[Int(id)] = l
      }
    }
    // Without penalties, read the row directly: a dictionary lookup per vocabulary entry cost ~0.5 ms
    // a token on a 49k vocabulary.
    let plain = penalized.isEmpty
    @inline(__always) func logit(_ i: Int) -> Float {
      plain ? logits[logits.startIndex + i] : penalized[i] ?? logits[logits.startIndex + i]
    }

    if p.temperature <= 0 {
      var best = 0
      var bestValue = -Float.infinity
      for i in 0..<logits.count where logit(i) > bestValue {
        bestValue = logit(i)
        best = i
      }
      return [(Int32(best), 1)]
    }

    // Candidates sorted by logit, largest first.
    var candidates: [(id: Int32, logit: Float)] = []
    candidates.reserveCapacity(logits.count)
    for i in 0..<logits.count where logit(i) > -Float.infinity { candidates.append((Int32(i), logit(i))) }
    if candidates.isEmpty { return [(0, 1)] }
    let k = p.topK > 0 ? min(p.topK, candidates.count) : candidates.count
    if k < candidates.count {
      candidates = Array(candidates.sorted { $0.logit > $1.logit }.prefix(k))
    } else {
      candidates.sort { $0.logit > $1.logit }
    }

    var probs = softmax(candidates.map(\.logit))
    if p.topP < 1 {
      var mass: Float = 0
      var keep = probs.count
      for (i, q) in probs.enumerated() {
        mass += q
        if mass >= p.topP {
          keep = i + 1
          break
        }
      }
      candidates.removeLast(candidates.count - keep)
      probs = softmax(candidates.map(\.logit))
    }
    if p.minP > 0, let top = probs.first {
      let keep = max(1, probs.prefix { $0 >= p.minP * top }.count)
      candidates.removeLast(candidates.count - keep)
    }
    probs = softmax(candidates.map { $0.logit / p.temperature })
    return zip(candidates, probs).map { ($0.id, $1) }
  }

  /// Draws one token from a distribution with the seeded generator.
  public mutating func draw(_ d: [(id: Int32, p: Float)]) -> Int32 {
    let u = Float(random.nextUnit())
    var acc: Float = 0
    for (id, q) in d {
      acc += q
      if u < acc { return id }
    }
    return d[d.count - 1].id
  }

  /// A uniform number in [0, 1) from the seeded generator (speculative acceptance tests).
  public mutating func uniform() -> Float { Float(random.nextUnit()) }

  private func softmax(_ logits: [Float]) -> [Float] {
    guard let m = logits.max() else { return [] }
    let e = logits.map { expf($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
  }
}
