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
  /// Whether a single-token match may give way to a match before the last token (see
  /// `proposeMatching`). Those proposals are right less often, so only callers that track each
  /// kind's acceptance and size drafts by it (`DraftLengthPolicy`) should turn this on.
  public var skipsInsertions: Bool

  public init(maxN: Int = 3, minN: Int = 1, skipsInsertions: Bool = false) {
    self.maxN = max(1, maxN)
    self.minN = max(1, min(minN, maxN))
    self.skipsInsertions = skipsInsertions
  }

  public mutating func propose(history: [Int32], count: Int) -> [DraftToken] {
    proposeMatching(history: history, count: count).drafts
  }

  /// Like `propose`, also giving the kind of match (0 when none): the length n of the n-gram that
  /// matched, or `insertionKind(n)`. Longer matches are right more often, so `DraftLengthPolicy`
  /// keeps each kind's acceptance apart.
  ///
  /// With `skipsInsertions`, when the longest direct match is a single token, the last token may be
  /// one the source does not have (a comma added in a copied sentence): then the n ≥ 2 tokens before it are matched instead
  /// and what followed them is proposed, as the copy usually goes on with the source's next words.
  public func proposeMatching(history: [Int32], count: Int) -> (drafts: [DraftToken], kind: Int) {
    guard count > 0 else { return ([], 0) }
    let len = history.count
    var direct: (drafts: [DraftToken], kind: Int) = ([], 0)
    for n in stride(from: min(maxN, len - 1), through: minN, by: -1) {
      if let from = Self.latestMatch(history, end: len, n: n) {
        direct = (history[from..<min(len, from + count)].map { DraftToken(id: $0) }, n)
        break
      }
    }
    if direct.kind >= 2 || !skipsInsertions { return direct }
    for n in stride(from: min(maxN, len - 2), through: max(2, minN), by: -1) {
      if let from = Self.latestMatch(history, end: len - 1, n: n) {
        return (history[from..<min(len, from + count)].map { DraftToken(id: $0) }, Self.insertionKind(n))
      }
    }
    return direct
  }

  /// The kind of a match of the n tokens before the last one (see `proposeMatching`).
  public static func insertionKind(_ n: Int) -> Int { 100 + n }

  /// Where the continuation of the latest earlier occurrence of history[end − n ..< end] starts, if
  /// there is one with something after it.
  static func latestMatch(_ history: [Int32], end: Int, n: Int) -> Int? {
    guard n >= 1, end - n >= 1 else { return nil }
    let tail = history[(end - n)..<end]
    var start = end - n - 1
    while start >= 0 {
      if history[start..<(start + n)].elementsEqual(tail) && start + n < history.count { return start + n }
      start -= 1
    }
    return nil
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
