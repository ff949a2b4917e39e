import Engine
import Foundation

/// Shapes engine output as the OpenAI endpoint of a plan expects it, whole or chunk by chunk.
struct ResponseBuilder: Sendable {
  let plan: GenerationPlan
  let created = Int(Date().timeIntervalSince1970)
  let fingerprint = "fp_peregrine"
  /// `usage.cost`, when the server prices requests.
  var cost: UsageCost?

  private var isChat: Bool { plan.endpoint == .chat }

  // MARK: - Whole responses

  func usage(_ choices: [ChoiceAccumulator]) -> Usage {
    let cached = stride(from: 0, to: choices.count, by: plan.n).reduce(0) {
      $0 + (choices[$1].completion?.cachedPromptTokens ?? 0)
    }
    var u = Usage(
      promptTokens: plan.promptTokenCounts.reduce(0, +),
      completionTokens: choices.reduce(0) { $0 + ($1.completion?.completionTokens ?? $1.tokens.count) },
      cachedTokens: cached)
    u.cost = cost
    return u
  }

  func whole(_ choices: [ChoiceAccumulator]) -> Data {
    let timings = choices.first?.completion.map(ResponseTimings.init)
    if isChat {
      let body = ChatCompletionResponse(
        id: plan.id, created: created, model: plan.model,
        choices: choices.enumerated().map { i, c in
          var message = ChatCompletionResponse.Message(content: c.text)
          var reason = OpenAIFormat.finishReason(c.completion?.finishReason ?? .abort)
          if let options = plan.chatOutput {
            let split = SplitChatOutput(c.text, options: options)
            message.reasoning = split.reasoning
            message.content = split.content.isEmpty && !split.toolCalls.isEmpty ? nil : split.content
            if !split.toolCalls.isEmpty {
              message.toolCalls = split.toolCalls.map(ChatToolCall.init)
              reason = "tool_calls"
            }
          }
          return .init(
            index: i, message: message,
            logprobs: plan.logprobs == nil ? nil : ChatLogprobs(content: c.tokens.compactMap(OpenAIFormat.chatLogprob)),
            finishReason: reason, abortReason: c.completion.flatMap(OpenAIFormat.abortReason))
        },
        usage: usage(choices), systemFingerprint: fingerprint, timings: timings)
      return SSEEncoder.json(body)
    }
    let body = CompletionResponse(
      id: plan.id, created: created, model: plan.model,
      choices: choices.enumerated().map { i, c in
        let echo = echoText(choice: i)
        var logprobs: CompletionLogprobs? = nil
        if plan.logprobs != nil {
          var lp = CompletionLogprobs()
          var offset = echo.count
          for t in c.tokens {
            OpenAIFormat.appendCompletionLogprob(t, offset: offset, to: &lp)
            offset += t.text.count
          }
          logprobs = lp
        }
        return .init(
          index: i, text: echo + c.text, logprobs: logprobs,
          finishReason: OpenAIFormat.finishReason(c.completion?.finishReason ?? .abort),
          abortReason: c.completion.flatMap(OpenAIFormat.abortReason))
      },
      usage: usage(choices), systemFingerprint: fingerprint, timings: timings)
    return SSEEncoder.json(body)
  }

  private func echoText(choice: Int) -> String {
    plan.echoTexts?[plan.promptIndex(ofChoice: choice)] ?? ""
  }

  // MARK: - Stream chunks

  /// Chat streams open each choice with the assistant role; completions with `echo` open with the prompt.
  func openingChunk(choice: Int) -> Data? {
    if isChat {
      return SSEEncoder.event(
        ChatCompletionChunk(
          id: plan.id, created: created, model: plan.model,
          choices: [.init(index: choice, delta: .init(role: "assistant", content: ""))]))
    }
    let echo = echoText(choice: choice)
    if echo.isEmpty { return nil }
    return SSEEncoder.event(
      CompletionResponse(
        id: plan.id, created: created, model: plan.model, choices: [.init(index: choice, text: echo)]))
  }

  /// A token's chunk, or nil when it carries nothing to show (text held back, no logprobs asked).
  func tokenChunk(_ t: GeneratedToken, choice: Int, textOffset: Int) -> Data? {
    let wantsLogprobs = plan.logprobs != nil && t.logprob != nil
    if t.text.isEmpty && !wantsLogprobs { return nil }
    if isChat {
      let lp = wantsLogprobs ? OpenAIFormat.chatLogprob(t).map { ChatLogprobs(content: [$0]) } : nil
      return SSEEncoder.event(
        ChatCompletionChunk(
          id: plan.id, created: created, model: plan.model,
          choices: [.init(index: choice, delta: .init(content: t.text), logprobs: lp)]))
    }
    var lp: CompletionLogprobs? = nil
    if wantsLogprobs {
      var l = CompletionLogprobs()
      OpenAIFormat.appendCompletionLogprob(t, offset: echoText(choice: choice).count + textOffset, to: &l)
      lp = l
    }
    return SSEEncoder.event(
      CompletionResponse(
        id: plan.id, created: created, model: plan.model, choices: [.init(index: choice, text: t.text, logprobs: lp)]))
  }

  /// The chunk that closes a choice: its finish reason and timings.
  func finalChunk(_ c: EngineCompletion, choice: Int) -> Data {
    let reason = OpenAIFormat.finishReason(c.finishReason)
    if isChat {
      return SSEEncoder.event(
        ChatCompletionChunk(
          id: plan.id, created: created, model: plan.model,
          choices: [.init(index: choice, delta: .init(), finishReason: reason, abortReason: OpenAIFormat.abortReason(c))],
          timings: ResponseTimings(c)))
    }
    return SSEEncoder.event(
      CompletionResponse(
        id: plan.id, created: created, model: plan.model,
        choices: [.init(index: choice, text: "", finishReason: reason, abortReason: OpenAIFormat.abortReason(c))],
        timings: ResponseTimings(c)))
  }

  // MARK: - Split chat streams (reasoning, tool calls)

  /// A choice's splitter when the plan splits chat output, else nil.
  func splitter() -> ChatOutputSplitter? {
    guard isChat, let options = plan.chatOutput else { return nil }
    return ChatOutputSplitter(options: options)
  }

  /// The chunks a token makes through the splitter: reasoning and content deltas (text held back
  /// while it may be a marker or a call gives none). The token's log-probabilities ride on its
  /// first chunk.
  func splitTokenChunks(_ t: GeneratedToken, splitter: inout ChatOutputSplitter, choice: Int) -> [Data] {
    let deltas = splitter.feed(t.text)
    let lp = plan.logprobs != nil && t.logprob != nil ? OpenAIFormat.chatLogprob(t).map { ChatLogprobs(content: [$0]) } : nil
    return deltas.enumerated().map { k, d in deltaChunk(d, choice: choice, logprobs: k == 0 ? lp : nil) }
  }

  /// The chunks that end a split choice: what was held back, the tool calls (each opened with its
  /// id, type and name, then its arguments), and the final chunk (`finish_reason: "tool_calls"`
  /// when there are calls).
  func splitFinalChunks(_ c: EngineCompletion, splitter: inout ChatOutputSplitter, choice: Int) -> [Data] {
    let end = splitter.finish()
    var chunks = end.deltas.map { deltaChunk($0, choice: choice, logprobs: nil) }
    for (k, call) in end.calls.enumerated() {
      let opening = ChatToolCallDelta(index: k, id: call.id, type: "function", function: .init(name: call.name, arguments: ""))
      let arguments = ChatToolCallDelta(index: k, function: .init(arguments: call.arguments))
      for piece in [opening, arguments] {
        chunks.append(
          SSEEncoder.event(
            ChatCompletionChunk(
              id: plan.id, created: created, model: plan.model,
              choices: [.init(index: choice, delta: .init(toolCalls: [piece]))])))
      }
    }
    let reason = end.calls.isEmpty ? OpenAIFormat.finishReason(c.finishReason) : "tool_calls"
    chunks.append(
      SSEEncoder.event(
        ChatCompletionChunk(
          id: plan.id, created: created, model: plan.model,
          choices: [.init(index: choice, delta: .init(), finishReason: reason, abortReason: OpenAIFormat.abortReason(c))],
          timings: ResponseTimings(c))))
    return chunks
  }

  private func deltaChunk(_ d: ChatOutputDelta, choice: Int, logprobs: ChatLogprobs?) -> Data {
    let delta: ChatCompletionChunk.Delta
    switch d {
    case .content(let text): delta = .init(content: text)
    case .reasoning(let text): delta = .init(reasoningContent: text, reasoning: text)
    }
    return SSEEncoder.event(
      ChatCompletionChunk(
        id: plan.id, created: created, model: plan.model, choices: [.init(index: choice, delta: delta, logprobs: logprobs)]))
  }

  /// `stream_options.include_usage`: one last chunk with no choices and the whole request's usage.
  func usageChunk(_ choices: [ChoiceAccumulator]) -> Data {
    let timings = choices.first?.completion.map(ResponseTimings.init)
    if isChat {
      return SSEEncoder.event(
        ChatCompletionChunk(
          id: plan.id, created: created, model: plan.model, choices: [], usage: usage(choices), timings: timings))
    }
    return SSEEncoder.event(
      CompletionResponse(
        id: plan.id, created: created, model: plan.model, choices: [], usage: usage(choices), timings: timings))
  }
}
