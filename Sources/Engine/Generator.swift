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
  public var timings: GenerationTimings
}

/// Options for one generation.
public struct GenerationOptions: Sendable {
  public var maxTokens: Int = 256
  public var sampling = SamplingParameters()
  /// Stop at end-of-generation tokens (EOS, `<|im_end|>`, …). Off for benchmarks.
  public var stopAtEndOfGeneration = true

  public init() {}
}

public enum GenerationError: Error, CustomStringConvertible {
  case model(ModelError)
  case invalidParameters(String)
  case promptTooLong(promptTokens: Int, maxTokens: Int, contextLength: Int)

  public var description: String {
    switch self {
    case .model(let e): e.description
    case .invalidParameters(let why): "invalid parameters: \(why)"
    case .promptTooLong(let p, let m, let c):
      "prompt (\(p) tokens) plus max tokens (\(m)) exceeds the context length (\(c))"
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

  public init(model: any LanguageModel, tokenizer: Tokenizer) {
    self.model = model
    self.tokenizer = tokenizer
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

    let state = reusableState(capacity: context)
    // Reuse the cached prefix, but always recompute at least the last prompt token for its logits.
    var common = zip(cachedTokens, promptIDs).prefix { $0 == $1 }.count
    common = min(common, promptIDs.count - 1)
    state.truncate(to: common)
    cachedTokens = Array(promptIDs[..<common])

    var sampler = Sampler(options.sampling)
    var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
    var history = promptIDs
    var generated: [Int32] = []
    var text = ""
    var finish = FinishReason.length

    let start = DispatchTime.now().uptimeNanoseconds
    var logits: Logits
    do {
      logits = try model.forward(Array(promptIDs[common...]), state: state, logits: .last)
    } catch {
      cachedTokens = []
      throw .model(error)
    }
    cachedTokens = promptIDs
    let prefillEnd = DispatchTime.now().uptimeNanoseconds
    var firstTokenTime = prefillEnd

    while generated.count < options.maxTokens {
      let next = sampler.sample(logits.row(0), history: history)
      if generated.isEmpty { firstTokenTime = DispatchTime.now().uptimeNanoseconds }
      if options.stopAtEndOfGeneration && tokenizer.isEndOfGeneration(next) {
        finish = .stop
        break
      }
      generated.append(next)
      history.append(next)
      let piece = detokenizer.append(next)
      if !piece.isEmpty {
        text += piece
        onText(piece)
      }
      if generated.count == options.maxTokens { break }
      do {
        logits = try model.forward([next], state: state, logits: .last)
      } catch {
        cachedTokens = []
        throw .model(error)
      }
      cachedTokens.append(next)
    }
    let rest = detokenizer.flush()
    if !rest.isEmpty {
      text += rest
      onText(rest)
    }
    let end = DispatchTime.now().uptimeNanoseconds

    let prefillSeconds = Double(prefillEnd - start) / 1e9
    let decodeSeconds = Double(end - firstTokenTime) / 1e9
    let timings = GenerationTimings(
      promptTokens: promptIDs.count,
      ttftMilliseconds: Double(firstTokenTime - start) / 1e6,
      prefillTokensPerSecond: prefillSeconds > 0 ? Double(promptIDs.count - common) / prefillSeconds : 0,
      generatedTokens: generated.count,
      decodeTokensPerSecond: generated.count > 1 && decodeSeconds > 0 ? Double(generated.count - 1) / decodeSeconds : 0)
    return GenerationResult(
      promptIDs: promptIDs, generatedIDs: generated, text: text, finishReason: finish, timings: timings)
  }

  private func reusableState(capacity: Int) -> ModelState {
    if let state { return state }
    let s = model.makeState(maxTokens: capacity)
    state = s
    return s
  }
}
