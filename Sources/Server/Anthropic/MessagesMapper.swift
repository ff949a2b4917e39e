import Engine

/// Checks Anthropic Messages bodies and turns them into a `GenerationPlan`, refusing as Anthropic
/// does (`invalid_request_error`, naming the field) what it cannot honour.
struct MessagesMapper: Sendable {
  /// The shared checks and limits (sampling ranges, stop sequences, context length, cache namespace).
  var base: RequestMapper

  /// The conversation as chat messages for the model's template: `system` first, then each turn's
  /// text. Thinking blocks of earlier assistant turns are dropped, as Anthropic drops them.
  func chatMessages(_ r: MessagesRequest) throws(APIError) -> [ChatMessage] {
    if r.messages.isEmpty {
      throw .invalidParameter("messages", "messages: at least one message is required.")
    }
    var out: [ChatMessage] = []
    if let system = r.system {
      let text = try Self.text(of: system.blocks, message: nil, role: "system")
      if !text.isEmpty { out.append(ChatMessage(role: "system", content: text)) }
    }
    for (i, m) in r.messages.enumerated() {
      guard m.role == "user" || m.role == "assistant" else {
        throw .invalidParameter(
          "messages[\(i)].role",
          "messages.\(i).role: '\(m.role)' is not a role; use 'user' or 'assistant' (the system prompt goes in the top-level 'system').")
      }
      out.append(ChatMessage(role: m.role, content: try Self.text(of: m.content.blocks, message: i, role: m.role)))
    }
    if r.messages.last?.role == "assistant" {
      throw .invalidParameter(
        "messages", "messages: the last message must be the user's; continuing a partial assistant turn (prefill) is not supported.")
    }
    return out
  }

  /// A turn's blocks (`message` nil: the system prompt's) as one text; refuses the block types this
  /// server cannot take. Messages name the block as Anthropic does (`messages.0.content.1`).
  static func text(of blocks: [MessagesRequest.Block], message: Int?, role: String) throws(APIError) -> String {
    var text = ""
    for (j, block) in blocks.enumerated() {
      let param = message.map { "messages[\($0)].content[\(j)]" } ?? "system[\(j)]"
      let path = message.map { "messages.\($0).content.\(j)" } ?? "system.\(j)"
      switch block.type {
      case "text":
        guard let t = block.text else { throw .invalidParameter(param, "\(path).text: Field required.") }
        text += t
      case "thinking", "redacted_thinking":
        guard role == "assistant" else {
          throw .invalidParameter(param, "\(path): '\(block.type)' blocks belong to assistant turns.")
        }
      case "tool_use", "tool_result":
        throw .invalidParameter(
          param, "\(path): '\(block.type)' blocks need tool support, which this server does not have yet.")
      default:
        throw .invalidParameter(
          param, "\(path): content blocks of type '\(block.type)' are not supported (text only).")
      }
    }
    return text
  }

  /// The checks shared by `/v1/messages` and `/v1/messages/count_tokens`: model, tools, thinking.
  func checkOptions(_ r: MessagesRequest) throws(APIError) {
    guard let model = r.model, !model.isEmpty else { throw .invalidParameter("model", "model: Field required.") }
    if !base.model.accepts(model: model) { throw .modelNotFound(model, served: base.model.name) }
    if let tools = r.tools, !tools.isEmpty {
      throw .invalidParameter("tools", "tools: tool use is not supported by this server yet.")
    }
    if let choice = r.toolChoice {
      guard ["auto", "any", "tool", "none"].contains(choice.type) else {
        throw .invalidParameter("tool_choice", "tool_choice.type: must be 'auto', 'any', 'tool' or 'none'.")
      }
      if choice.type == "any" || choice.type == "tool" {
        throw .invalidParameter("tool_choice", "tool_choice: '\(choice.type)' needs 'tools'.")
      }
    }
    if let thinking = r.thinking {
      switch thinking.type {
      // The model decides how much to think: a model that does not think needs nothing more.
      case "disabled", "adaptive", "between_tools": break
      case "enabled":
        guard let budget = thinking.budgetTokens else {
          throw .invalidParameter("thinking", "thinking.budget_tokens: Field required when thinking is enabled.")
        }
        guard budget >= 1024 else {
          throw .invalidParameter("thinking", "thinking.budget_tokens: must be at least 1024, got \(budget).")
        }
        if let max = r.maxTokens, budget >= max {
          throw .invalidParameter("thinking", "thinking.budget_tokens: must be less than max_tokens (\(max)).")
        }
      default:
        throw .invalidParameter(
          "thinking", "thinking.type: must be 'enabled', 'disabled', 'adaptive' or 'between_tools', got '\(thinking.type)'.")
      }
    }
    if let effort = r.outputConfig?.effort, !["low", "medium", "high", "xhigh", "max"].contains(effort) {
      throw .invalidParameter("output_config", "output_config.effort: must be low, medium, high, xhigh or max.")
    }
  }

  /// `output_config.format` as the shared `response_format` (nil: free text).
  static func format(_ c: MessagesRequest.OutputConfig?) throws(APIError) -> ResponseFormat? {
    guard let f = c?.format else { return nil }
    guard f.type == "json_schema" else {
      throw .invalidParameter("output_config", "output_config.format.type: must be 'json_schema', got '\(f.type)'.")
    }
    guard let schema = f.schema, case .object = schema else {
      throw .invalidParameter("output_config", "output_config.format.schema: must be a JSON object.")
    }
    return ResponseFormat(type: .jsonSchema, jsonSchema: .init(schema: schema))
  }

  /// The prompt's token ids, as `count_tokens` reports them.
  func promptIDs(_ r: MessagesRequest) throws(APIError) -> [Int32] {
    try checkOptions(r)
    return try base.model.encodeChat(chatMessages(r))
  }

  func plan(_ r: MessagesRequest, id: String) throws(APIError) -> GenerationPlan {
    try checkOptions(r)
    guard let maxTokens = r.maxTokens else { throw .invalidParameter("max_tokens", "max_tokens: Field required.") }
    guard maxTokens >= 1 else {
      throw .invalidParameter("max_tokens", "max_tokens: must be at least 1, got \(maxTokens).")
    }
    // Anthropic's ranges, narrower than OpenAI's.
    if let t = r.temperature, !(t.isFinite && t >= 0 && t <= 1) {
      throw .invalidParameter("temperature", "temperature: must be between 0 and 1, got \(t).")
    }
    if let k = r.topK, k < 0 { throw .invalidParameter("top_k", "top_k: must be 0 or more, got \(k).") }
    let prompt = try base.model.encodeChat(chatMessages(r))
    let common = RequestMapper.Common(
      model: r.model, maxTokens: maxTokens, temperature: r.temperature, topP: r.topP, topK: r.topK,
      stop: r.stopSequences.map(StopSequences.init), seed: r.seed, responseFormat: try Self.format(r.outputConfig),
      stream: r.stream, user: r.metadata?.userID, cache: r.cache)
    return try base.build(
      common, endpoint: .messages, id: id, prompts: [prompt], promptParam: "messages", maxTokensParam: "max_tokens",
      defaultMaxTokens: nil, topLogprobs: nil, echoTexts: nil)
  }
}
