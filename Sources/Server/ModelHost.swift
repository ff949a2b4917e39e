import Engine
import Foundation

/// The served model's lifecycle as routes see it: loading (503), ready, draining on shutdown (503:
/// running requests finish, new ones go elsewhere), or failed to load (503 with the reason). The
/// server listens before loading finishes so health checks can watch it.
final class ModelHost: Sendable {
  enum State: Sendable {
    case loading
    case ready(engine: any ServingEngine, context: ModelContext)
    case draining(engine: any ServingEngine, context: ModelContext)
    case failed(String)
  }

  private let box = LockedBox<State>(.loading)
  let created = Int(Date().timeIntervalSince1970)

  var state: State { box.current }

  func set(_ state: State) { box.withLock { $0 = state } }

  /// Shutdown began: `/health` turns 503 so routers stop sending, requests already running go on.
  func beginDraining() {
    box.withLock {
      if case .ready(let engine, let context) = $0 { $0 = .draining(engine: engine, context: context) }
    }
  }

  /// The engine and model context, or the 503 a client should get.
  func ready() throws(APIError) -> (engine: any ServingEngine, context: ModelContext) {
    switch state {
    case .loading: throw .loading()
    case .failed(let why): throw .unavailable("The model failed to load: \(why)")
    case .draining: throw .unavailable("The server is shutting down; send the request to another instance.")
    case .ready(let engine, let context): return (engine, context)
    }
  }

  /// The engine once loaded, also while draining (metrics still read it).
  var engineIfReady: (any ServingEngine)? {
    switch state {
    case .ready(let engine, _), .draining(let engine, _): engine
    case .loading, .failed: nil
    }
  }

  /// The loaded model's context, also while draining.
  var contextIfLoaded: ModelContext? {
    switch state {
    case .ready(_, let context), .draining(_, let context): context
    case .loading, .failed: nil
    }
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
      makeConstraint: nil)
    let trie = LazyTrie(tokenizer: tokenizer)
    makeConstraint = StructuredOutput.constraintFactory(trie: trie)
    renderChat = { prompt throws(APIError) in
      do {
        let text = try template.render(messages: prompt.messages, tools: prompt.tools, variables: prompt.variables)
        return RenderedChat(ids: ChatTemplate.encode(rendered: text, tokenizer: tokenizer), text: text)
      } catch {
        throw APIError.invalidParameter("messages", "the chat template failed: \(error)")
      }
    }
    if case .jinja(let t) = template {
      toolCallFormat = ToolCallFormat(templateSource: t.template.source)
      templateThinks = t.template.source.contains(ChatOutputSplitter.thinkOpen)
    }
    makeToolConstraint = StructuredOutput.toolConstraintFactory(trie: trie)
    makeThinkingBudget = StructuredOutput.thinkingBudgetFactory(trie: trie, tokenizer: tokenizer)
    hasDraftModel = served.engine.hasDraftModel
    samplingDefaults = served.samplingDefaults.parameters
  }
}
