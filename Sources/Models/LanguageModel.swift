import GGUF

/// What callers need to know about a loaded model.
public struct ModelInfo: Sendable, Equatable {
  public var architecture: String
  public var name: String
  public var vocabularySize: Int
  public var contextLength: Int
  public var layers: Int
  public var embeddingLength: Int
}

/// Which positions of a forward pass need logits.
public enum LogitsSelection: Sendable, Equatable {
  case last
  case all
}

/// Logits for `rows` positions, row-major `[rows, vocabularySize]`.
public struct Logits: Sendable {
  public var rows: Int
  public var vocabularySize: Int
  public var values: [Float]

  public func row(_ r: Int) -> ArraySlice<Float> {
    values[(r * vocabularySize)..<((r + 1) * vocabularySize)]
  }
}

/// The state one sequence carries between forward passes.
public final class ModelState: @unchecked Sendable {
  public let cache: KVCache
  let scratch = ScratchArena()

  public init(cache: KVCache) { self.cache = cache }

  /// Tokens processed so far.
  public var position: Int { cache.count }
}

/// A decoder-only language model: feed tokens, get logits; one file per architecture conforms.
public protocol LanguageModel: AnyObject, Sendable {
  var info: ModelInfo { get }
  /// A fresh sequence state able to hold `maxTokens` positions (capped at the context length).
  func makeState(maxTokens: Int) -> ModelState
  /// Runs `tokens` at positions `state.position...` as one batch, appends them to the cache and
  /// returns the logits selected.
  func forward(_ tokens: [Int32], state: ModelState, logits: LogitsSelection) throws(ModelError) -> Logits
}
