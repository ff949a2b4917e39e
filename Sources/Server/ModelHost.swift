import Engine
import Foundation

/// The served model's lifecycle as routes see it: loading (503), ready, or failed to load (503 with
/// the reason). The server listens before loading finishes so health checks can watch it.
final class ModelHost: Sendable {
  enum State: Sendable {
    case loading
    case ready(engine: any ServingEngine, context: ModelContext)
    case failed(String)
  }

  private let box = LockedBox<State>(.loading)
  let created = Int(Date().timeIntervalSince1970)

  var state: State { box.current }

  func set(_ state: State) { box.withLock { $0 = state } }

  /// The engine and model context, or the 503 a client should get.
  func ready() throws(APIError) -> (engine: any ServingEngine, context: ModelContext) {
    switch state {
    case .loading: throw .loading()
    case .failed(let why): throw .unavailable("The model failed to load: \(why)")
    case .ready(let engine, let context): return (engine, context)
    }
  }

  var engineIfReady: (any ServingEngine)? {
    if case .ready(let engine, _) = state { return engine }
    return nil
  }
}

extension ModelContext {
  /// The context of a loaded model: prompts go through its tokenizer and chat template.
  init(served: ServedModel, name: String, aliases: Set<String>) {
    let tokenizer = served.engine.tokenizer
    let template = served.template
    self.init(
      name: name, aliases: aliases, contextLength: served.engine.modelInfo.contextLength,
      vocabularySize: tokenizer.vocabularySize,
      encodePrompt: { text in tokenizer.encode(text, addSpecial: true, parseSpecial: true) },
      encodeChat: { messages throws(APIError) in
        // The template writes the turn markers; BOS comes from the vocabulary's own rule.
        do { return try template.encode(messages, tokenizer: tokenizer) } catch {
          throw APIError.invalidParameter("messages", "the chat template failed: \(error)")
        }
      },
      makeConstraint: StructuredOutput.constraintFactory(tokenizer: tokenizer))
    hasDraftModel = served.engine.hasDraftModel
  }
}
