import Engine
import Templates

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

  /// The items as OpenAI-shaped messages for the model's template: `instructions` first, as the
  /// system prompt; `function_call` items join the assistant turn before them as its `tool_calls`,
  /// `function_call_output` items become `tool` messages.
  func messages(instructions: String?, items: [ResponseItem], previousCount: Int = 0) throws(APIError)
    -> [Templates.JSONValue]
  {
    var out: [Templates.JSONValue] = []
    func message(_ role: String, _ content: Templates.JSONValue) -> Templates.JSONValue {
      .object([("role", .string(role)), ("content", content)])
    }
    if let instructions, !instructions.isEmpty { out.append(message("system", .string(instructions))) }
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
        out.append(message(role, .string(try Self.text(of: content, param: "\(param).content"))))
      case "function_call":
        guard let callID = item.callID, let name = item.name else {
          throw .invalidParameter(param, "A 'function_call' item needs 'call_id' and 'name'.")
        }
        let arguments = item.arguments.flatMap { try? Templates.JSONValue(parsing: $0) } ?? .object([])
        let call = ToolCall.templateValue(id: callID, name: name, arguments: arguments)
        if case .object(var members) = out.last, members.first?.value == .string("assistant") {
          if let k = members.firstIndex(where: { $0.key == "tool_calls" }), case .array(let calls) = members[k].value {
            members[k].value = .array(calls + [call])
          } else {
            members.append(("tool_calls", .array([call])))
          }
          out[out.count - 1] = .object(members)
        } else {
          out.append(.object([("role", .string("assistant")), ("content", .null), ("tool_calls", .array([call]))]))
        }
      case "function_call_output":
        guard let callID = item.callID, let output = item.output else {
          throw .invalidParameter(param, "A 'function_call_output' item needs 'call_id' and 'output'.")
        }
        out.append(
          .object([
            ("role", .string("tool")), ("tool_call_id", .string(callID)),
            ("content", .string(try Self.text(of: output, param: "\(param).output"))),
          ]))
      case "reasoning":
        // Earlier reasoning is not shown to the model again.
        continue
      case "item_reference":
        throw .invalidParameter("\(param).type", "'item_reference' is not supported; use 'previous_response_id'.")
      default:
        throw .invalidParameter("\(param).type", "Input items of type '\(item.type!)' are not supported.")
      }
    }
    return out
  }

  /// Function tools (`{"type": "function", "name", "description", "parameters"}`); built-in tools
  /// (web search, files, …) are not this server's to run.
  func tools(_ r: ResponsesRequest) throws(APIError) -> [ToolDefinition] {
    guard let tools = r.tools else { return [] }
    guard tools.count <= 128 else { throw .invalidParameter("tools", "At most 128 tools, got \(tools.count).") }
    var out: [ToolDefinition] = []
    for (i, t) in tools.enumerated() {
      guard t["type"]?.stringValue == "function" else {
        throw .invalidParameter(
          "tools[\(i)].type", "Only function tools are supported, got '\(t["type"]?.stringValue ?? "none")'.")
      }
      guard let name = t["name"]?.stringValue, ToolDefinition.isValidName(name) else {
        throw .invalidParameter("tools[\(i)].name", "A function name is 1 to 64 letters, digits, underscores or dashes.")
      }
      if out.contains(where: { $0.name == name }) {
        throw .invalidParameter("tools[\(i)].name", "Two tools are named '\(name)'.")
      }
      let parameters = t["parameters"]
      if let parameters, parameters != .null, !parameters.isObject {
        throw .invalidParameter("tools[\(i)].parameters", "'parameters' must be a JSON Schema object.")
      }
      out.append(
        ToolDefinition(
          name: name, description: t["description"]?.stringValue, parameters: parameters == .null ? nil : parameters))
    }
    return out
  }

  /// `tool_choice`: `auto`, `none`, `required`, or `{"type": "function", "name"}`.
  func choice(_ value: Templates.JSONValue?, tools: [ToolDefinition]) throws(APIError) -> ToolChoice {
    switch value {
    case nil, .null?, .string("auto")?: return tools.isEmpty ? .none : .auto
    case .string("none")?: return .none
    case .string("required")?:
      guard !tools.isEmpty else { throw .invalidParameter("tool_choice", "'tool_choice': 'required' needs 'tools'.") }
      return .required
    case .object?:
      guard value?["type"]?.stringValue == "function", let name = value?["name"]?.stringValue,
        tools.contains(where: { $0.name == name })
      else {
        throw .invalidParameter("tool_choice", "'tool_choice' must name one of the function 'tools': {\"type\": \"function\", \"name\": …}.")
      }
      return .function(name)
    default:
      throw .invalidParameter("tool_choice", "'tool_choice' must be 'auto', 'none', 'required' or a function.")
    }
  }

  /// The chat turn of a request whose options passed: messages, tools, choice, reasoning effort.
  func turn(_ r: ResponsesRequest, previous: [ResponseItem]) throws(APIError) -> (ChatTurn, [ResponseItem]) {
    try checkOptions(r)
    let items = try conversation(r, previous: previous)
    let tools = try self.tools(r)
    var turn = ChatTurn(
      messages: try messages(instructions: r.instructions, items: items, previousCount: previous.count), tools: tools,
      choice: try choice(r.toolChoice, tools: tools))
    turn.parallelToolCalls = r.parallelToolCalls ?? true
    turn.thinkingBudget = try base.thinkingBudget(effort: r.reasoning?["effort"]?.stringValue, tokens: nil)
    turn.structuredOutput = r.text?.format.map { $0.type != "text" } ?? false
    return (turn, items)
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
    try base.prepare(self.turn(r, previous: previous).0).prompt
  }

  /// - Parameter canStore: the server has a database to keep responses in.
  func plan(_ r: ResponsesRequest, previous: [ResponseItem], id: String, canStore: Bool) throws(APIError) -> Mapped {
    let (turn, items) = try self.turn(r, previous: previous)
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
    var plan = try base.plan(
      turn, common, endpoint: .responses, id: id, promptParam: "input", maxTokensParam: "max_output_tokens")
    let store = (r.store ?? true) && canStore
    plan.store = store
    plan.metadata = r.metadata
    let settings = ResponseObject.Settings(
      instructions: r.instructions, maxOutputTokens: r.maxOutputTokens, temperature: r.temperature, topP: r.topP,
      previousResponseID: r.previousResponseID, store: store, user: r.user, metadata: r.metadata ?? [:],
      textFormat: formatEcho, tools: r.tools ?? [], toolChoice: r.toolChoice ?? .string(turn.tools.isEmpty ? "none" : "auto"),
      parallelToolCalls: turn.parallelToolCalls)
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
