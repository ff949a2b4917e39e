import Models

/// A draft token and the proposer's own distribution at that step (nil: the proposer is
/// deterministic, a point mass on the token).
public struct DraftToken: Sendable {
  public var id: Int32
  public var q: [(id: Int32, p: Float)]?

  public init(id: Int32, q: [(id: Int32, p: Float)]? = nil) {
    self.id = id
    self.q = q
  }

  /// The proposer's probability of `token` at this step.
  func probability(of token: Int32) -> Float {
    guard let q else { return token == id ? 1 : 0 }
    return q.first { $0.id == token }?.p ?? 0
  }
}

/// Guesses how a sequence continues so the target model can check several tokens in one pass.
public protocol DraftProposer {
  /// Up to `count` tokens likely to follow `history` (fewer, or none, when it has no idea).
  mutating func propose(history: [Int32], count: Int) throws(GenerationError) -> [DraftToken]
  /// Reads the prompt ahead of the first proposal (a draft model's own prefill), so that work is
  /// counted as prompt processing rather than inside decoding.
  mutating func prepare(prompt: [Int32]) throws(GenerationError)
}

extension DraftProposer {
  public mutating func prepare(prompt: [Int32]) throws(GenerationError) {}
}

/// Prompt lookup: finds the most recent earlier occurrence of the sequence's last n tokens (longest
/// n first) and proposes what followed it. Free to run; strong when the output copies its input
/// (rewriting, extending code, quoting a passage).
public struct NGramProposer: DraftProposer {
  public var maxN: Int
  public var minN: Int

  public init(maxN: Int = 3, minN: Int = 1) {
    self.maxN = max(1, maxN)
    self.minN = max(1, min(minN, maxN))
  }

  public mutating func propose(history: [Int32], count: Int) -> [DraftToken] {
    proposeMatching(history: history, count: count).drafts
  }

  /// Like `propose`, also giving the length of the n-gram that matched (0 when none did): longer
  /// matches are right more often, so `DraftLengthPolicy` keeps their acceptance apart.
  public func proposeMatching(history: [Int32], count: Int) -> (drafts: [DraftToken], matchLength: Int) {
    guard count > 0 else { return ([], 0) }
    let len = history.count
    for n in stride(from: min(maxN, len - 1), through: minN, by: -1) {
      let tail = history[(len - n)...]
      // Search backwards for the latest earlier match that has something after it.
      var start = len - n - 1
      while start >= 0 {
        if history[start..<(start + n)].elementsEqual(tail) {
          let from = start + n
          let end = min(len, from + count)
          if from < end { return (history[from..<end].map { DraftToken(id: $0) }, n) }
        }
        start -= 1
      }
    }
    return ([], 0)
  }
}

/// A smaller model sharing the tokenizer drafts greedily (or by sampling, reporting its distribution),
/// with its own KV cache kept in step with the accepted tokens.
public final class DraftModelProposer: DraftProposer {
  public let model: any LanguageModel
  private let state: ModelState
  private var cached: [Int32] = []
  private var sampler: Sampler

  public init(model: any LanguageModel, sampling: SamplingParameters, maxTokens: Int) {
    self.model = model
    state = model.makeState(maxTokens: maxTokens)
    sampler = Sampler(sampling)
  }

  public func prepare(prompt: [Int32]) throws(GenerationError) {
    guard !prompt.isEmpty, prompt.count <= state.capacity else { return }
    var common = zip(cached, prompt).prefix { $0 == $1 }.count
    common = min(common, prompt.count - 1)
    common = state.truncate(to: common)
    cached = Array(prompt[..<common])
    do {
      _ = try model.forward(Array(prompt[common...]), state: state, logits: .last)
    } catch {
      throw .model(error)
    }
    cached = prompt
  }

  public func propose(history: [Int32], count: Int) throws(GenerationError) -> [DraftToken] {
    guard count > 0, !history.isEmpty else { return [] }
    guard history.count + count <= state.capacity else { return [] }
    var common = zip(cached, history).prefix { $0 == $1 }.count
    common = min(common, history.count - 1)
    common = state.truncate(to: common)
    cached = Array(history[..<common])
    var drafts: [DraftToken] = []
    var context = history
    var feed = Array(history[common...])
    do {
      for _ in 0..<count {
        let logits = try model.forward(feed, state: state, logits: .last)
        cached += feed
        let d = sampler.distribution(logits.row(0), history: context)
        let id = d.count == 1 ? d[0].id : sampler.draw(d)
        drafts.append(DraftToken(id: id, q: sampler.parameters.temperature > 0 ? d : nil))
        context.append(id)
        feed = [id]
      }
    } catch {
      throw .model(error)
    }
    return drafts
  }
}
