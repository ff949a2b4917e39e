import Engine
import Foundation

/// Chat Completions and Completions as a `ResponseShape`: `ResponseBuilder`'s chunks ending with
/// `data: [DONE]`, preceded by the usage chunk when `stream_options.include_usage` asked for it.
/// A chat with tools or reasoning streams through one `ChatOutputSplitter` per choice.
struct OpenAIShape: ResponseShape {
  var builder: ResponseBuilder
  /// Per choice: reasoning and tool calls split out of the text as it streams (nil: plain text).
  private var splitters: [ChatOutputSplitter?]

  init(plan: GenerationPlan) {
    builder = ResponseBuilder(plan: plan)
    splitters = Array(repeating: builder.splitter(), count: plan.requests.count)
  }

  func whole(_ choices: [ChoiceAccumulator], cost: UsageCost?) -> Data {
    var b = builder
    b.cost = cost
    return b.whole(choices)
  }

  func opening(choice: Int) -> [Data] { builder.openingChunk(choice: choice).map { [$0] } ?? [] }

  mutating func token(_ t: GeneratedToken, choice: Int, textOffset: Int) -> [Data] {
    if splitters[choice] != nil { return builder.splitTokenChunks(t, splitter: &splitters[choice]!, choice: choice) }
    return builder.tokenChunk(t, choice: choice, textOffset: textOffset).map { [$0] } ?? []
  }

  mutating func final(_ c: EngineCompletion, choice: Int) -> [Data] {
    if splitters[choice] != nil { return builder.splitFinalChunks(c, splitter: &splitters[choice]!, choice: choice) }
    return [builder.finalChunk(c, choice: choice)]
  }

  func closing(_ choices: [ChoiceAccumulator], cost: UsageCost?) -> [Data] {
    guard builder.plan.includeUsage else { return [SSEEncoder.done] }
    var b = builder
    b.cost = cost
    return [b.usageChunk(choices), SSEEncoder.done]
  }

  func keep(response: Data, choices: [ChoiceAccumulator], caller: CompletionHandler.Caller, server: ServerContext) {
    server.storeCompletion(plan: builder.plan, caller: caller, response: response)
  }
}
