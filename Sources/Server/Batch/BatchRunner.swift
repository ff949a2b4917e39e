import Accounts
import Engine
import Foundation

/// Runs one batch line on the engine exactly as the interactive route would run its body (same
/// request mapping, same response shape), but at batch priority and never streamed. Used by the
/// server's batch worker and by `peregrine batch run`.
struct BatchRunner: Sendable {
  let engine: any ServingEngine
  let model: ModelContext
  /// `/v1/chat/completions` or `/v1/completions`.
  let endpoint: String
  /// The prefix-cache namespace of the batch's owner.
  var cacheNamespace = CacheNamespace.shared
  /// Background inside a server (interactive requests go first); offline runs use the whole engine.
  var priority = EngineRequest.batchPriority

  /// What running a line came to.
  enum Generation: Sendable {
    /// Every choice finished (successfully or with an engine error).
    case finished([ChoiceAccumulator])
    /// Stopped before the end (the batch was cancelled or the engine shut down): run it again later.
    case stopped
    /// The engine could not take it now (queue full, shutting down): run it again later.
    case refused(APIError)
    /// The engine will never run it (too long for the context, invalid): the line's answer.
    case rejected(APIError)
  }

  /// The plan of a line's body, or the 400 its interactive twin would get.
  func plan(body: String, id: String) -> Result<GenerationPlan, APIError> {
    var mapper = RequestMapper(model: model)
    mapper.cacheNamespace = cacheNamespace
    do {
      var plan: GenerationPlan
      let data = Data(body.utf8)
      if endpoint == "/v1/chat/completions" {
        plan = try mapper.plan(RequestBodyReader.decode(ChatCompletionRequest.self, from: data), id: "chatcmpl-" + id)
      } else {
        let request = try RequestBodyReader.decode(CompletionRequest.self, from: data)
        plan = try mapper.plan(request, id: "cmpl-" + id)
        if case .tokens(let lists) = request.prompt, plan.echoTexts != nil {
          plan.echoTexts = lists.map { engine.tokenizer.decode($0, special: false) }
        }
      }
      plan.stream = false
      plan.includeUsage = false
      // A batch line is stored with the batch, not as a stored completion.
      plan.store = false
      for i in plan.requests.indices { plan.requests[i].priority = priority }
      return .success(plan)
    } catch {
      return .failure(error)
    }
  }

  /// Runs the plan's choices to the end; `onStart` gets the engine ids (to cancel them).
  func generate(_ plan: GenerationPlan) async -> Generation {
    let streams: ChoiceStreams
    do { streams = try ChoiceStreams(plan: plan, engine: engine) } catch {
      switch error {
      case .queueFull, .shuttingDown: return .refused(APIError(error))
      default: return .rejected(APIError(error))
      }
    }
    var choices = Array(repeating: ChoiceAccumulator(), count: plan.requests.count)
    for await (choice, event) in streams.events {
      streams.consumed(event)
      switch event {
      case .token(let t): choices[choice].add(t)
      case .finished(let c): choices[choice].completion = c
      }
    }
    let stopped = choices.contains { $0.completion == nil || $0.completion?.finishReason == .abort }
    return stopped ? .stopped : .finished(choices)
  }

  /// The response a finished line answers with: 200 and the endpoint's object, or 500 and the
  /// engine's error.
  static func response(plan: GenerationPlan, choices: [ChoiceAccumulator], cost: UsageCost?) -> (status: Int, body: Data) {
    if let failed = choices.first(where: { $0.completion?.finishReason == .error }) {
      return (500, APIError.internal("Generation failed: \(failed.completion?.error ?? "unknown error")").body)
    }
    return (200, ResponseBuilder(plan: plan, cost: cost).whole(choices))
  }
}
