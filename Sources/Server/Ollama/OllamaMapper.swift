import Engine
import Templates

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

  /// `think`: `true` (or an effort) asks a thinking model to think, `false` not to; a model whose
  /// template does not think refuses `true`, as Ollama does.
  func thinkVariables(_ think: JSONValue?) throws(APIError) -> [String: Templates.JSONValue] {
    switch think {
    case .none, .null?: return [:]
    case .bool(false)?: return ["enable_thinking": .bool(false)]
    default:
      guard base.model.templateThinks else {
        throw .invalidParameter("think", "\"\(base.model.name)\" does not support thinking")
      }
      return ["enable_thinking": .bool(true)]
    }
  }

  /// The conversation as OpenAI-shaped messages for the model's template: an assistant's
  /// `tool_calls` (arguments objects) keep their shape, `tool` messages answer them.
  func messages(_ r: OllamaChatRequest) throws(APIError) -> [Templates.JSONValue] {
    var out: [Templates.JSONValue] = []
    for (i, m) in (r.messages ?? []).enumerated() {
      guard ["system", "user", "assistant", "tool"].contains(m.role) else {
        throw .invalidParameter("messages[\(i)].role", "messages[\(i)]: invalid role '\(m.role)'; use system, user, assistant or tool")
      }
      if let images = m.images, !images.isEmpty {
        throw .invalidParameter("messages[\(i)].images", "messages[\(i)]: images are not supported by this model")
      }
      var members: [(key: String, value: Templates.JSONValue)] = [
        ("role", .string(m.role)), ("content", .string(m.content ?? "")),
      ]
      if let calls = m.toolCalls, !calls.isEmpty {
        guard m.role == "assistant" else {
          throw .invalidParameter("messages[\(i)].tool_calls", "messages[\(i)]: only assistant messages carry tool_calls")
        }
        var converted: [Templates.JSONValue] = []
        for (k, call) in calls.enumerated() {
          guard let f = call["function"], let name = f["name"]?.stringValue else {
            throw .invalidParameter("messages[\(i)].tool_calls[\(k)]", "messages[\(i)].tool_calls[\(k)]: a call is {\"function\": {\"name\", \"arguments\"}}")
          }
          let id = call["id"]?.stringValue ?? "call_\(i)_\(k)"
          converted.append(ToolCall.templateValue(id: id, name: name, arguments: f["arguments"] ?? .object([])))
        }
        members.append(("tool_calls", .array(converted)))
      }
      if m.role == "tool", let name = m.toolName { members.append(("name", .string(name))) }
      out.append(.object(members))
    }
    return out
  }

  func plan(_ r: OllamaChatRequest, id: String) throws(APIError) -> GenerationPlan {
    try checkModel(r.model)
    let tools = try base.toolDefinitions(r.tools)
    var turn = ChatTurn(messages: try messages(r), tools: tools, choice: tools.isEmpty ? .none : .auto)
    // Ollama's tools are OpenAI-shaped: the template sees them as sent, members in document order
    // (RequestBodyReader decodes with `JSONValue.decodeKeepingOrder`).
    turn.toolsJSON = r.tools
    turn.variables = try thinkVariables(r.think)
    turn.structuredOutput = try Self.format(r.format) != nil
    return try build(
      r.options, format: r.format, stream: r.stream, endpoint: .ollamaChat, id: id, turn: turn, raw: nil,
      promptParam: "messages")
  }

  func plan(_ r: OllamaGenerateRequest, id: String) throws(APIError) -> GenerationPlan {
    try checkModel(r.model)
    let variables = try thinkVariables(r.think)
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
    if r.raw == true {
      if r.system != nil { throw .invalidParameter("system", "system cannot be combined with raw: true") }
      return try build(
        r.options, format: r.format, stream: r.stream, endpoint: .ollamaGenerate, id: id, turn: nil,
        raw: base.model.encodePrompt(text), promptParam: "prompt")
    }
    var messages: [Templates.JSONValue] = []
    if let system = r.system, !system.isEmpty {
      messages.append(.object([("role", .string("system")), ("content", .string(system))]))
    }
    messages.append(.object([("role", .string("user")), ("content", .string(text))]))
    var turn = ChatTurn(messages: messages)
    turn.variables = variables
    turn.structuredOutput = try Self.format(r.format) != nil
    return try build(
      r.options, format: r.format, stream: r.stream, endpoint: .ollamaGenerate, id: id, turn: turn, raw: nil,
      promptParam: "prompt")
  }

  /// A chat `turn` through the template (its output read for thinking and tool calls), or `raw` ids as they are.
  private func build(
    _ o: OllamaOptions?, format: JSONValue?, stream: Bool?, endpoint: GenerationPlan.Endpoint, id: String,
    turn: ChatTurn?, raw: [Int32]?, promptParam: String
  ) throws(APIError) -> GenerationPlan {
    // The prompt's length bounds num_predict.
    let prepared = try turn.map { t throws(APIError) in try base.prepare(t) }
    let prompt = prepared?.prompt ?? raw ?? []
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
    if let turn, let prepared {
      return try base.plan(
        turn, prepared: prepared, common, endpoint: endpoint, id: id, promptParam: promptParam,
        maxTokensParam: "num_predict")
    }
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
