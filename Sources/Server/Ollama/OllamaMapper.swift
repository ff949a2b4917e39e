import Engine

/// Checks Ollama `/api/chat` and `/api/generate` bodies and turns them into a `GenerationPlan`.
/// Refusals read like Ollama's (`{"error": "…"}`, 400; an unknown model 404).
struct OllamaMapper: Sendable {
  /// The shared checks and limits (sampling ranges, stop sequences, context length, cache namespace).
  var base: RequestMapper

  /// Whether `name` is the served model: its name, an alias, or either with Ollama's `:latest` tag.
  func checkModel(_ name: String?) throws(APIError) {
    guard let name, !name.isEmpty else { throw .invalidParameter("model", "model is required") }
    let bare = name.hasSuffix(":latest") ? String(name.dropLast(":latest".count)) : name
    guard base.model.accepts(model: name) || base.model.accepts(model: bare) else {
      throw APIError(
        status: 404, message: "model '\(name)' not found; this server serves '\(base.model.name)'",
        type: "invalid_request_error", param: "model", code: "model_not_found")
    }
  }

  /// `think: true` (or an effort) asks for a thinking model; the served one is not, so Ollama's refusal.
  func checkThink(_ think: JSONValue?) throws(APIError) {
    guard let think, think != .bool(false), think != .null else { return }
    throw .invalidParameter("think", "\"\(base.model.name)\" does not support thinking")
  }

  func chatMessages(_ r: OllamaChatRequest) throws(APIError) -> [ChatMessage] {
    var out: [ChatMessage] = []
    for (i, m) in (r.messages ?? []).enumerated() {
      switch m.role {
      case "system", "user", "assistant": break
      case "tool":
        throw .invalidParameter("messages[\(i)].role", "messages[\(i)]: tool messages need tool support, which this server does not have yet")
      default:
        throw .invalidParameter("messages[\(i)].role", "messages[\(i)]: invalid role '\(m.role)'; use system, user or assistant")
      }
      if let images = m.images, !images.isEmpty {
        throw .invalidParameter("messages[\(i)].images", "messages[\(i)]: images are not supported by this model")
      }
      if let calls = m.toolCalls, !calls.isEmpty {
        throw .invalidParameter("messages[\(i)].tool_calls", "messages[\(i)]: tool calls need tool support, which this server does not have yet")
      }
      out.append(ChatMessage(role: m.role, content: m.content ?? ""))
    }
    return out
  }

  func plan(_ r: OllamaChatRequest, id: String) throws(APIError) -> GenerationPlan {
    try checkModel(r.model)
    try checkThink(r.think)
    if let tools = r.tools, !tools.isEmpty {
      throw .invalidParameter("tools", "\"\(base.model.name)\" does not support tools on this server yet")
    }
    let prompt = try base.model.encodeChat(chatMessages(r))
    return try build(
      r.options, format: r.format, stream: r.stream, endpoint: .ollamaChat, id: id, prompt: prompt,
      promptParam: "messages")
  }

  func plan(_ r: OllamaGenerateRequest, id: String) throws(APIError) -> GenerationPlan {
    try checkModel(r.model)
    try checkThink(r.think)
    if let suffix = r.suffix, !suffix.isEmpty {
      throw .invalidParameter("suffix", "suffix (fill-in-the-middle) is not supported by this model")
    }
    if let template = r.template, !template.isEmpty {
      throw .invalidParameter("template", "template overrides are not supported; the model's own chat template is used (or send raw: true)")
    }
    if let context = r.context, !context.isEmpty {
      throw .invalidParameter("context", "context is not supported; send the conversation to /api/chat instead")
    }
    if let images = r.images, !images.isEmpty {
      throw .invalidParameter("images", "images are not supported by this model")
    }
    let text = r.prompt ?? ""
    let prompt: [Int32]
    if r.raw == true {
      if r.system != nil { throw .invalidParameter("system", "system cannot be combined with raw: true") }
      prompt = base.model.encodePrompt(text)
    } else {
      var messages: [ChatMessage] = []
      if let system = r.system, !system.isEmpty { messages.append(ChatMessage(role: "system", content: system)) }
      messages.append(ChatMessage(role: "user", content: text))
      prompt = try base.model.encodeChat(messages)
    }
    return try build(
      r.options, format: r.format, stream: r.stream, endpoint: .ollamaGenerate, id: id, prompt: prompt,
      promptParam: "prompt")
  }

  private func build(
    _ o: OllamaOptions?, format: JSONValue?, stream: Bool?, endpoint: GenerationPlan.Endpoint, id: String,
    prompt: [Int32], promptParam: String
  ) throws(APIError) -> GenerationPlan {
    // Ollama: -1 generates until the context is full, -2 fills it; any value not above 0 means no
    // limit. A limit past the room the context leaves is clamped to it rather than refused.
    let room = max(base.model.contextLength - prompt.count, 1)
    let maxTokens = o?.numPredict.flatMap { $0 > 0 ? min($0, room) : nil }
    if let n = o?.numCtx, n < 1 { throw .invalidParameter("num_ctx", "num_ctx must be at least 1, got \(n)") }
    let common = RequestMapper.Common(
      maxTokens: maxTokens, temperature: o?.temperature, topP: o?.topP, topK: o?.topK, minP: o?.minP,
      stop: o?.stop.map(StopSequences.init), seed: o?.seed, presencePenalty: o?.presencePenalty,
      frequencyPenalty: o?.frequencyPenalty, repetitionPenalty: o?.repeatPenalty,
      responseFormat: try Self.format(format), stream: stream ?? true)
    return try base.build(
      common, endpoint: endpoint, id: id, prompts: [prompt], promptParam: promptParam, maxTokensParam: "num_predict",
      defaultMaxTokens: nil, topLogprobs: nil, echoTexts: nil)
  }

  /// `format`: `"json"` (any JSON object), a JSON schema, or empty for free text.
  static func format(_ f: JSONValue?) throws(APIError) -> ResponseFormat? {
    switch f {
    case .none, .null, .string(""): return nil
    case .string("json"): return ResponseFormat(type: .jsonObject)
    case .object: return ResponseFormat(type: .jsonSchema, jsonSchema: .init(schema: f))
    default: throw .invalidParameter("format", "format must be \"json\" or a JSON schema object")
    }
  }
}
