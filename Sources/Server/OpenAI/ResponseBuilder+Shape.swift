import Engine
import Foundation

/// Chat Completions and Completions as a `ResponseShape`: chunks ending with `data: [DONE]`,
/// preceded by the usage chunk when `stream_options.include_usage` asked for it.
extension ResponseBuilder: ResponseShape {
  func whole(_ choices: [ChoiceAccumulator], cost: UsageCost?) -> Data {
    var b = self
    b.cost = cost
    return b.whole(choices)
  }

  func opening(choice: Int) -> [Data] { openingChunk(choice: choice).map { [$0] } ?? [] }

  func token(_ t: GeneratedToken, choice: Int, textOffset: Int) -> [Data] {
    tokenChunk(t, choice: choice, textOffset: textOffset).map { [$0] } ?? []
  }

  func final(_ c: EngineCompletion, choice: Int) -> [Data] { [finalChunk(c, choice: choice)] }

  func closing(_ choices: [ChoiceAccumulator], cost: UsageCost?) -> [Data] {
    guard plan.includeUsage else { return [SSEEncoder.done] }
    var b = self
    b.cost = cost
    return [b.usageChunk(choices), SSEEncoder.done]
  }

  func keep(response: Data, choices: [ChoiceAccumulator], caller: CompletionHandler.Caller, server: ServerContext) {
    server.storeCompletion(plan: plan, caller: caller, response: response)
  }
}
