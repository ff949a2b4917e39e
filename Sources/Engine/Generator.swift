import Constraints
import Foundation
import Models
import Tokenizers

/// Why generation stopped.
public enum FinishReason: String, Sendable, Codable {
  /// The model produced an end-of-generation token.
  case stop
  /// `maxTokens` was reached.
  case length
  /// Cancelled (client gone, shutdown) before finishing.
  case abort
  /// The engine failed while running the request; the completion carries the message.
  case error
}

/// Everything one generation produced.
public struct GenerationResult: Sendable {
  public var promptIDs: [Int32]
  public var generatedIDs: [Int32]
  public var text: String
  public var finishReason: FinishReason
  /// The end-of-generation token that stopped it (not part of `generatedIDs` or `text`), if one did.
  public var stopTokenID: Int32? = nil
  public var timings: GenerationTimings
}

/// Options for one generation.
public struct GenerationOptions: Sendable {
  public var maxTokens: Int = 256
  public var sampling = SamplingParameters()
  /// Stop at end-of-generation tokens (EOS, `<|im_end|>`, …). Off for benchmarks.
  public var stopAtEndOfGeneration = true
  /// Draft tokens and check them in one target pass; nil decodes one token per pass.
  public var speculation: SpeculationOptions? = nil
  /// Restricts output to JSON (`response_format`); generation stops when the document is complete.
  /// Speculation is not used under a constraint.
  public var constraint: JSONConstraint?
  /// Asked after each token; true ends the generation there with `abort` (Ctrl-C in `chat`).
  public var shouldStop: (@Sendable () -> Bool)? = nil

  public init() {}
}

/// Speculative decoding: who drafts, and how many tokens at most per target pass.
public struct SpeculationOptions: Sendable {
  public enum Proposer: Sendable {
    /// Prompt lookup over the sequence so far.
    case ngram
    /// A smaller model sharing the tokenizer.
    case draftModel(any LanguageModel)
  }

  public var proposer: Proposer
  /// Draft tokens per pass at most.
  public var draftTokens = 5
  /// Choose each pass's draft length from measured pass costs and acceptance (`DraftLengthPolicy`);
  /// false: always `draftTokens` (or what prompt lookup finds).
  public var adaptive = true

  public init(proposer: Proposer, draftTokens: Int = 5, adaptive: Bool = true) {
    self.proposer = proposer
    self.draftTokens = draftTokens
    self.adaptive = adaptive
  }
}

public enum GenerationError: Error, CustomStringConvertible {
  case model(ModelError)
  case invalidParameters(String)
  case promptTooLong(promptTokens: Int, maxTokens: Int, contextLength: Int)
  case constraint(JSONConstraintError)

  public var description: String {
    switch self {
    case .model(let e): e.description
    case .invalidParameters(let why): "invalid parameters: \(why)"
    case .promptTooLong(let p, let m, let c):
      "prompt (\(p) tokens) plus max tokens (\(m)) exceeds the context length (\(c))"
    case .constraint(let e): e.description
    }
  }
}

/// Runs one sequence at a time: prefill the prompt as one batch, then decode token by token.
/// A `Generator` keeps its KV cache between calls and reuses the longest common prefix, so the
/// turns of a chat only process what is new.
public final class Generator {
  public let model: any LanguageModel
  public let tokenizer: Tokenizer
  private var state: ModelState?
  private var cachedTokens: [Int32] = []

  /// How the generator's KV cache stores keys and values (`.q8_0`: f32 attention at every position,
  /// as in the engine with that cache type).
  public let kvCacheType: KVCacheType

  public init(model: any LanguageModel, tokenizer: Tokenizer, kvCacheType: KVCacheType = .f16) {
    self.model = model
    self.tokenizer = tokenizer
    self.kvCacheType = kvCacheType
  }

  /// Generates after `promptIDs`, calling `onText` with each complete piece of UTF-8 text.
  public func generate(
    promptIDs: [Int32], options: GenerationOptions, onText: (String) -> Void = { _ in }
  ) throws(GenerationError) -> GenerationResult {
    if let why = options.sampling.validationError { throw .invalidParameters(why) }
    guard options.maxTokens >= 0 else { throw .invalidParameters("max tokens must be ≥ 0") }
    guard !promptIDs.isEmpty else { throw .invalidParameters("the prompt is empty") }
    let context = model.info.contextLength
    guard promptIDs.count + options.maxTokens <= context else {
      throw .promptTooLong(promptTokens: promptIDs.count, maxTokens: options.maxTokens, contextLength: context)
    }

    let state = try reusableState(capacity: context)
    // Reuse the cached prefix, but always recompute at least the last prompt token for its logits.
    var common = zip(cachedTokens, promptIDs).prefix { $0 == $1 }.count
    common = min(common, promptIDs.count - 1)
    common = model.reusePrefix(of: state, common: common, promptLength: promptIDs.count)
    cachedTokens = Array(promptIDs[..<common])

    var sampler = Sampler(options.sampling)
    var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
    var history = promptIDs
    var generated: [Int32] = []
    var text = ""
    var finish = FinishReason.length
    var stopToken: Int32? = nil

    var lookup: NGramProposer? = nil
    var drafter: DraftModelProposer? = nil
    var policy = DraftLengthPolicy(maxDraft: 0)
    if let spec = options.speculation {
      guard spec.draftTokens >= 1 && spec.draftTokens <= 64 else {
        throw .invalidParameters("draft tokens must be between 1 and 64, got \(spec.draftTokens)")
      }
      policy = DraftLengthPolicy(maxDraft: spec.draftTokens)
      switch spec.proposer {
      case .ngram: lookup = NGramProposer(skipsInsertions: spec.adaptive)
      case .draftModel(let m):
        guard m.info.vocabularySize == model.info.vocabularySize else {
          throw .invalidParameters(
            "the draft model's vocabulary (\(m.info.vocabularySize)) differs from the target's (\(model.info.vocabularySize))")
        }
        drafter = DraftModelProposer(model: m, sampling: options.sampling, maxTokens: context)
        // Prompt lookup as well, when the policy chooses: a long match whose continuation is usually
        // right saves the draft model's passes (it catches up on the accepted tokens in one pass).
        if spec.adaptive { lookup = NGramProposer(skipsInsertions: true) }
      }
    }
    let adaptive = options.speculation?.adaptive ?? false
    var drafted = 0, accepted = 0, verifications = 0

    let start = DispatchTime.now().uptimeNanoseconds
    var logits: Logits
    do {
      logits = try model.forward(Array(promptIDs[common...]), state: state, logits: .last)
    } catch {
      cachedTokens = []
      throw .model(error)
    }
    cachedTokens = promptIDs
    try drafter?.prepare(prompt: promptIDs)
    let prefillEnd = DispatchTime.now().uptimeNanoseconds
    var firstTokenTime = prefillEnd
    var pendingRow = 0  // the logits row to sample next, when pendingToken is nil
    var pendingToken: Int32? = nil  // a token already chosen (a speculative correction)

    var constraint = options.constraint
    var maskedRow: [Float] = []  // [vocabularySize] logits with disallowed tokens at -inf

    /// Emits one token; false when generation must stop.
    func emit(_ token: Int32) throws(GenerationError) -> Bool {
      if generated.isEmpty { firstTokenTime = DispatchTime.now().uptimeNanoseconds }
      if options.stopAtEndOfGeneration && tokenizer.isEndOfGeneration(token) {
        finish = .stop
        stopToken = token
        return false
      }
      generated.append(token)
      history.append(token)
      let piece = detokenizer.append(token)
      if !piece.isEmpty {
        text += piece
        onText(piece)
      }
      if constraint != nil {
        do { try constraint!.advance(token: token) } catch { throw .constraint(error) }
        if constraint!.isComplete {
          finish = .stop
          return false
        }
      }
      if let shouldStop = options.shouldStop, shouldStop() {
        finish = .abort
        return false
      }
      return generated.count < options.maxTokens
    }

    decoding: while generated.count < options.maxTokens {
      let token: Int32
      if let t = pendingToken {
        token = t
      } else if let c = constraint {
        maskedRow.removeAll(keepingCapacity: true)
        maskedRow.append(contentsOf: logits.row(pendingRow))
        if c.mask(logits: &maskedRow) == 0 { throw .constraint(.deadEnd) }
        token = sampler.sample(maskedRow[...], history: history)
      } else {
        token = sampler.sample(logits.row(pendingRow), history: history)
      }
      pendingToken = nil
      guard try emit(token) else { break }
      // `token` is chosen but not yet in the cache; drafts extend it.
      var drafts: [DraftToken] = []
      var kind = 0  // the policy's acceptance class: the n-gram's match length, 0 for a draft model
      let room = min(policy.maxDraft, options.maxTokens - generated.count, context - history.count)
      if constraint == nil && room > 0 {
        var useModel = drafter != nil
        let modelK = drafter == nil ? 0 : adaptive ? policy.length(kind: 0, available: room) : room
        if let lookup {
          let (all, matched) = lookup.proposeMatching(history: history, count: room)
          let k = adaptive ? policy.length(kind: matched, available: all.count) : all.count
          if drafter != nil && k > 0 {
            // Both proposers: the one with more expected tokens per second (lookup's drafts are free).
            useModel = (policy.rate(kind: 0, drafts: modelK) ?? 0) > (policy.rate(kind: matched, drafts: k) ?? 0)
          }
          if !useModel {
            kind = matched
            drafts = Array(all.prefix(k))
          }
        }
        if useModel, let drafter {
          let k = modelK
          if k > 0 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            drafts = try drafter.propose(history: history, count: k)
            policy.recordDraft(tokens: drafts.count, nanoseconds: DispatchTime.now().uptimeNanoseconds - t0)
          }
        }
      }
      let base = state.position
      do {
        let t0 = DispatchTime.now().uptimeNanoseconds
        logits = try model.forward([token] + drafts.map(\.id), state: state, logits: drafts.isEmpty ? .last : .all)
        policy.recordPass(rows: drafts.count + 1, nanoseconds: DispatchTime.now().uptimeNanoseconds - t0)
      } catch {
        cachedTokens = []
        throw .model(error)
      }
      cachedTokens.append(token)
      pendingRow = 0
      guard !drafts.isEmpty else { continue }

      // Verify: row i is the target's distribution after drafts[..<i].
      verifications += 1
      var kept = 0
      for (i, d) in drafts.enumerated() {
        drafted += 1  // drafts after an end token are never examined, so not counted
        let dist = sampler.distribution(logits.row(i), history: history)
        if let correction = SpeculativeAcceptance.check(target: dist, draft: d, sampler: &sampler) {
          pendingToken = correction
          break
        }
        kept += 1
        accepted += 1
        cachedTokens.append(d.id)
        if try !emit(d.id) {
          state.truncate(to: base + 1 + kept)
          break decoding
        }
      }
      state.truncate(to: base + 1 + kept)
      if pendingToken == nil { pendingRow = kept }
      policy.recordVerification(kind: kind, kept: kept, rejectedOne: pendingToken != nil)
    }
    let rest = detokenizer.flush()
    if !rest.isEmpty {
      text += rest
      onText(rest)
    }
    let end = DispatchTime.now().uptimeNanoseconds

    let prefillSeconds = Double(prefillEnd - start) / 1e9
    let decodeSeconds = Double(end - firstTokenTime) / 1e9
    var timings = GenerationTimings(
      promptTokens: promptIDs.count,
      ttftMilliseconds: Double(firstTokenTime - start) / 1e6,
      prefillTokensPerSecond: prefillSeconds > 0 ? Double(promptIDs.count - common) / prefillSeconds : 0,
      generatedTokens: generated.count,
      decodeTokensPerSecond: generated.count > 1 && decodeSeconds > 0 ? Double(generated.count - 1) / decodeSeconds : 0)
    if options.speculation != nil {
      timings.draftTokens = drafted
      timings.acceptedTokens = accepted
      timings.acceptanceRate = drafted > 0 ? Double(accepted) / Double(drafted) : 0
      timings.meanAcceptedLength = verifications > 0 ? Double(accepted) / Double(verifications) + 1 : 1
    }
    return GenerationResult(
      promptIDs: promptIDs, generatedIDs: generated, text: text, finishReason: finish, stopTokenID: stopToken,
      timings: timings)
  }

  private func reusableState(capacity: Int) throws(GenerationError) -> ModelState {
    if let state { return state }
    let s: ModelState
    do { s = try model.makeState(maxTokens: capacity, kvCacheType: kvCacheType) } catch { throw .model(error) }
    state = s
    return s
  }
}
