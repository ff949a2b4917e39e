import Engine
import Testing

@Suite struct SamplerTests {
  let logits: [Float] = [1.0, 3.0, 2.0, 0.5, 2.9]

  @Test func greedyPicksTheArgmax() {
    var s = Sampler(.greedy)
    #expect(s.sample(logits[...], history: []) == 1)
  }

  @Test func sameSeedSameDraws() {
    var p = SamplingParameters()
    p.temperature = 1.5
    p.topK = 0
    p.topP = 1
    p.minP = 0
    p.seed = 42
    var a = Sampler(p)
    var b = Sampler(p)
    let drawsA = (0..<50).map { _ in a.sample(logits[...], history: []) }
    let drawsB = (0..<50).map { _ in b.sample(logits[...], history: []) }
    #expect(drawsA == drawsB)
    #expect(Set(drawsA).count > 1, "temperature 1.5 over five close logits should not be deterministic")
    p.seed = 43
    var c = Sampler(p)
    #expect((0..<50).map { _ in c.sample(logits[...], history: []) } != drawsA)
  }

  @Test func topKOneIsGreedy() {
    var p = SamplingParameters()
    p.topK = 1
    p.temperature = 5
    var s = Sampler(p)
    for _ in 0..<20 { #expect(s.sample(logits[...], history: []) == 1) }
  }

  @Test func topPKeepsOnlyTheNucleus() {
    var p = SamplingParameters()
    p.topK = 0
    p.minP = 0
    p.temperature = 1
    p.topP = 0.5  // token 1 alone holds ~37%, with token 4 ~71%: the nucleus is {1, 4}
    var s = Sampler(p)
    let draws = Set((0..<200).map { _ in s.sample(logits[...], history: []) })
    #expect(draws == [1, 4])
  }

  @Test func minPDropsUnlikelyTokens() {
    var p = SamplingParameters()
    p.topK = 0
    p.topP = 1
    p.temperature = 1
    p.minP = 0.5  // keeps tokens with p ≥ half of the top one: 1 (e^3), 4 (e^2.9), 2 (e^2 ≈ 0.37×) is dropped
    var s = Sampler(p)
    let draws = Set((0..<200).map { _ in s.sample(logits[...], history: []) })
    #expect(draws == [1, 4])
  }

  @Test func penaltiesDemoteRepeatedTokens() {
    var p = SamplingParameters.greedy
    p.repetitionPenalty = 2  // token 1: 3.0 → 1.5, so token 4 (2.9) wins
    var s = Sampler(p)
    #expect(s.sample(logits[...], history: [1]) == 4)
    var q = SamplingParameters.greedy
    q.presencePenalty = 0.2
    q.frequencyPenalty = 0.1
    var t = Sampler(q)
    // token 1: 3.0 - 0.2 - 2×0.1 = 2.6 < 2.9
    #expect(t.sample(logits[...], history: [1, 1]) == 4)
    q.presencePenalty = 0.05
    q.frequencyPenalty = 0
    var u = Sampler(q)
    // token 1: 3.0 - 0.05 = 2.95 > 2.9, still first
    #expect(u.sample(logits[...], history: [1]) == 1)
  }

  @Test func invalidParametersAreNamed() {
    var p = SamplingParameters()
    p.topP = 0
    #expect(p.validationError?.contains("top-p") == true)
    p = SamplingParameters()
    p.temperature = -1
    #expect(p.validationError?.contains("temperature") == true)
    #expect(SamplingParameters().validationError == nil)
  }
}
