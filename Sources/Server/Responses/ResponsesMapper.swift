import Engine

/// Checks Responses API bodies and turns them into a `GenerationPlan`, plus what the response
/// echoes and the conversation it continues (for the store).
struct ResponsesMapper: Sendable {
  /// The shared checks and limits (sampling ranges, context length, cache namespace).
  var base: RequestMapper

  struct Mapped: Sendable {
    var plan: GenerationPlan
    /// The input items of the whole conversation so far (a previous response's, then this request's).
    var conversation: [ResponseItem]
    var settings: ResponseObject.Settings
  }

  /// The conversation: `previous` (a stored response's, already loaded) followed by this input.
  func conversation(_ r: ResponsesRequest, previous: [ResponseItem]) throws(APIError) -> [ResponseItem] {
    let items = previous + (r.input?.items ?? [])
    if items.isEmpty {
      throw .invalidParameter("input", "'input' is required (text or a list of items) unless 'previous_response_id' continues a conversation.")
    }
    return items
  }

  /// The items as chat messages for the model's template: `instructions` first, as the system prompt.
  func chatMessages(instructions: String?, items: [ResponseItem], previousCount: Int = 0) throws(APIError) -> [ChatMessage] {
    var out: [ChatMessage] = []
    if let instructions, !instructions.isEmpty { out.append(ChatMessage(role: "system", content: instructions)) }
    for (i, item) in items.enumerated() {
      // Errors name the request's own input index; stored items were checked when they were stored.
      let param = "input[\(i - previousCount)]"
      switch item.type ?? "message" {
      case "message":
        let role: String
        switch item.role {
        case "user", "assistant": role = item.role!
        case "system", "developer": role = "system"
        default:
          throw .invalidParameter(
            "\(param).role", "Role '\(item.role ?? "")' is not supported; use user, assistant, system or developer.")
        }
        guard let content = item.content else { throw .invalidParameter("\(param).content", "'content' is required.") }
        out.append(ChatMessage(role: role, content: try Self.text(of: content, param: "\(param).content")))
      case "reasoning":
        // Earlier reasoning is not shown to the model again.
        continue
      case "function_call", "function_call_output":
        throw .invalidParameter(
          "\(param).type", "'\(item.type!)' items need tool support, which this server does not have yet.")
      case "item_reference":
        throw .invalidParameter("\(param).type", "'item_reference' is not supported; use 'previous_response_id'.")
      default:
        throw .invalidParameter("\(param).type", "Input items of type '\(item.type!)' are not supported.")
      }
    }
    return out
  }

  static func text(of content: ResponseItem.Content, param: String) throws(APIError) -> String {
    switch content {
    case .text(let s): return s
    case .parts(let parts):
      var text = ""
      for (j, part) in parts.enumerated() {
        switch part.type {
        case "input_text", "output_text", "text":
          guard let t = part.text else { throw .invalidParameter("\(param)[\(j)].text", "'text' is required.") }
          text += t
        case "refusal": continue
        default:
          throw .invalidParameter(
            "\(param)[\(j)].type", "Content parts of type '\(part.type)' are not supported (text only).")
        }
      }
      return text
    }
  }

  /// The checks shared by `/v1/responses` and `/v1/responses/input_tokens`.
  func checkOptions(_ r: ResponsesRequest) throws(APIError) {
    if let requested = r.model, !base.model.accepts(model: requested) {
      throw .modelNotFound(requested, served: base.model.name)
    }
    if let tools = r.tools, !tools.isEmpty {
      throw .invalidParameter("tools", "'tools' need tool support, which this server does not have yet.")
    }
    if let choice = r.toolChoice, choice != .string("auto"), choice != .string("none") {
      throw .invalidParameter("tool_choice", "'tool_choice' other than 'auto' or 'none' needs 'tools'.")
    }
    if r.background == true {
      throw .invalidParameter("background", "Background responses are not supported; stream instead.")
    }
    if let c = r.conversation, c != .null {
      throw .invalidParameter("conversation", "'conversation' is not supported; continue with 'previous_response_id'.")
    }
    if let t = r.truncation, t != "auto", t != "disabled" {
      throw .invalidParameter("truncation", "'truncation' must be 'auto' or 'disabled', got '\(t)'.")
    }
  }

  /// The prompt's token ids, as `input_tokens` reports them.
  func promptIDs(_ r: ResponsesRequest, previous: [ResponseItem]) throws(APIError) -> [Int32] {
    try checkOptions(r)
    let items = try conversation(r, previous: previous)
    return try base.model.encodeChat(
      chatMessages(instructions: r.instructions, items: items, previousCount: previous.count))
  }

  /// - Parameter canStore: the server has a database to keep responses in.
  func plan(_ r: ResponsesRequest, previous: [ResponseItem], id: String, canStore: Bool) throws(APIError) -> Mapped {
    try checkOptions(r)
    let items = try conversation(r, previous: previous)
    let prompt = try base.model.encodeChat(
      chatMessages(instructions: r.instructions, items: items, previousCount: previous.count))
    if let metadata = r.metadata {
      guard metadata.count <= 16, metadata.allSatisfy({ $0.key.count <= 64 && $0.value.count <= 512 }) else {
        throw .invalidParameter(
          "metadata", "'metadata' holds at most 16 pairs, keys up to 64 and values up to 512 characters.")
      }
    }
    let (format, formatEcho) = try Self.format(r.text?.format)
    let common = RequestMapper.Common(
      model: r.model, maxTokens: r.maxOutputTokens, temperature: r.temperature, topP: r.topP, topK: r.topK,
      stop: r.stop, seed: r.seed, responseFormat: format, stream: r.stream, user: r.user, cache: r.cache)
    var plan = try base.build(
      common, endpoint: .responses, id: id, prompts: [prompt], promptParam: "input",
      maxTokensParam: "max_output_tokens", defaultMaxTokens: nil, topLogprobs: nil, echoTexts: nil)
    let store = (r.store ?? true) && canStore
    plan.store = store
    plan.metadata = r.metadata
    let settings = ResponseObject.Settings(
      instructions: r.instructions, maxOutputTokens: r.maxOutputTokens, temperature: r.temperature, topP: r.topP,
      previousResponseID: r.previousResponseID, store: store, user: r.user, metadata: r.metadata ?? [:],
      textFormat: formatEcho)
    return Mapped(plan: plan, conversation: items, settings: settings)
  }

  /// `text.format` as the shared `response_format`, and as the response echoes it.
  static func format(_ f: ResponsesRequest.TextOptions.Format?) throws(APIError) -> (ResponseFormat?, JSONValue) {
    guard let f else { return (nil, .object(["type": .string("text")])) }
    switch f.type {
    case "text": return (nil, .object(["type": .string("text")]))
    case "json_object": return (ResponseFormat(type: .jsonObject), .object(["type": .string("json_object")]))
    case "json_schema":
      guard let schema = f.schema, case .object = schema else {
        throw .invalidParameter("text.format.schema", "'json_schema' needs a 'schema' that is a JSON object.")
      }
      var echo: [String: JSONValue] = ["type": .string("json_schema"), "schema": schema]
      if let name = f.name { echo["name"] = .string(name) }
      if let strict = f.strict { echo["strict"] = .bool(strict) }
      return (
        ResponseFormat(type: .jsonSchema, jsonSchema: .init(name: f.name, schema: schema, strict: f.strict)),
        .object(echo)
      )
    default:
      throw .invalidParameter(
        "text.format.type", "'text.format.type' must be 'text', 'json_object' or 'json_schema', got '\(f.type)'.")
    }
  }
}
