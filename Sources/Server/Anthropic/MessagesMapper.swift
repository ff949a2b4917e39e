import Engine
import Templates

/// Checks Anthropic Messages bodies and turns them into a `GenerationPlan`, refusing as Anthropic
/// does (`invalid_request_error`, naming the field) what it cannot honour. Tools, `tool_use` /
/// `tool_result` history and thinking map onto the same `ChatTurn` OpenAI chat uses.
struct MessagesMapper: Sendable {
  /// The shared checks and limits (sampling ranges, stop sequences, context length, cache namespace).
  var base: RequestMapper

  /// The conversation as OpenAI-shaped messages for the model's template: `system` first; a user
  /// turn's `tool_result` blocks become `tool` messages before its text; an assistant turn's
  /// `tool_use` blocks its `tool_calls`. Thinking blocks of earlier turns are dropped, as
  /// Anthropic drops them.
  func messages(_ r: MessagesRequest) throws(APIError) -> [Templates.JSONValue] {
    if r.messages.isEmpty {
      throw .invalidParameter("messages", "messages: at least one message is required.")
    }
    var out: [Templates.JSONValue] = []
    if let system = r.system {
      let text = try Self.text(of: system.blocks, message: nil)
      if !text.isEmpty { out.append(.object([("role", .string("system")), ("content", .string(text))])) }
    }
    for (i, m) in r.messages.enumerated() {
      guard m.role == "user" || m.role == "assistant" else {
        throw .invalidParameter(
          "messages[\(i)].role",
          "messages.\(i).role: '\(m.role)' is not a role; use 'user' or 'assistant' (the system prompt goes in the top-level 'system').")
      }
      var text = ""
      var calls: [Templates.JSONValue] = []
      var results: [Templates.JSONValue] = []
      for (j, block) in m.content.blocks.enumerated() {
        let param = "messages[\(i)].content[\(j)]"
        let path = "messages.\(i).content.\(j)"
        switch block.type {
        case "tool_use":
          guard m.role == "assistant" else {
            throw .invalidParameter(param, "\(path): 'tool_use' blocks belong to assistant turns.")
          }
          guard let id = block.id, let name = block.name else {
            throw .invalidParameter(param, "\(path): 'tool_use' needs 'id' and 'name'.")
          }
          calls.append(ToolCall.templateValue(id: id, name: name, arguments: block.input ?? .object([])))
        case "tool_result":
          guard m.role == "user" else {
            throw .invalidParameter(param, "\(path): 'tool_result' blocks belong to user turns.")
          }
          guard let id = block.toolUseID else { throw .invalidParameter(param, "\(path).tool_use_id: Field required.") }
          var content = ""
          if let c = block.content { content = try Self.text(of: c.blocks, message: i) }
          if block.isError == true { content = "Error: " + content }
          results.append(.object([("role", .string("tool")), ("tool_call_id", .string(id)), ("content", .string(content))]))
        default:
          text += try Self.text(of: [block], message: i, index: j, role: m.role)
        }
      }
      if m.role == "user" {
        out += results
        if !text.isEmpty || results.isEmpty { out.append(.object([("role", .string("user")), ("content", .string(text))])) }
      } else {
        var members: [(key: String, value: Templates.JSONValue)] = [
          ("role", .string("assistant")), ("content", text.isEmpty && !calls.isEmpty ? .null : .string(text)),
        ]
        if !calls.isEmpty { members.append(("tool_calls", .array(calls))) }
        out.append(.object(members))
      }
    }
    if r.messages.last?.role == "assistant" {
      throw .invalidParameter(
        "messages", "messages: the last message must be the user's; continuing a partial assistant turn (prefill) is not supported.")
    }
    return out
  }

  /// Text blocks (and thinking blocks, dropped) as one text; refuses the block types this server
  /// cannot take. `message` nil: the system prompt's. Errors name the block as Anthropic does
  /// (`messages.0.content.1`); `index` is the first block's position.
  static func text(
    of blocks: [MessagesRequest.Block], message: Int?, index: Int = 0, role: String = "user"
  ) throws(APIError) -> String {
    var text = ""
    for (k, block) in blocks.enumerated() {
      let j = index + k
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
      default:
        throw .invalidParameter(
          param, "\(path): content blocks of type '\(block.type)' are not supported here (text only).")
      }
    }
    return text
  }

  /// Anthropic's tools (`name`, `description`, `input_schema`); server tools (typed ones other than
  /// `custom`) are not this server's to run.
  func tools(_ r: MessagesRequest) throws(APIError) -> [ToolDefinition] {
    guard let tools = r.tools else { return [] }
    guard tools.count <= 128 else { throw .invalidParameter("tools", "tools: at most 128 tools, got \(tools.count).") }
    var out: [ToolDefinition] = []
    for (i, t) in tools.enumerated() {
      if let type = t.type, type != "custom" {
        throw .invalidParameter("tools[\(i)]", "tools.\(i): server tools ('\(type)') are not supported; define client tools.")
      }
      guard ToolDefinition.isValidName(t.name) else {
        throw .invalidParameter("tools[\(i)].name", "tools.\(i).name: 1 to 64 letters, digits, underscores or dashes.")
      }
      if out.contains(where: { $0.name == t.name }) {
        throw .invalidParameter("tools[\(i)].name", "tools.\(i).name: two tools are named '\(t.name)'.")
      }
      if let schema = t.inputSchema, !(schema.isObject) {
        throw .invalidParameter("tools[\(i)].input_schema", "tools.\(i).input_schema: must be a JSON Schema object.")
      }
      out.append(ToolDefinition(name: t.name, description: t.description, parameters: t.inputSchema))
    }
    return out
  }

  /// `tool_choice` onto the shared modes: `any` is OpenAI's `required`, `tool` a named function.
  func choice(_ r: MessagesRequest, tools: [ToolDefinition]) throws(APIError) -> ToolChoice {
    guard let c = r.toolChoice else { return tools.isEmpty ? .none : .auto }
    switch c.type {
    case "auto": return tools.isEmpty ? .none : .auto
    case "none": return .none
    case "any":
      guard !tools.isEmpty else { throw .invalidParameter("tool_choice", "tool_choice: 'any' needs 'tools'.") }
      return .required
    case "tool":
      guard let name = c.name, tools.contains(where: { $0.name == name }) else {
        throw .invalidParameter("tool_choice", "tool_choice.name: must name one of 'tools'.")
      }
      return .function(name)
    default:
      throw .invalidParameter("tool_choice", "tool_choice.type: must be 'auto', 'any', 'tool' or 'none'.")
    }
  }

  /// The turn every check passed: messages, tools, choice and thinking.
  func turn(_ r: MessagesRequest) throws(APIError) -> ChatTurn {
    guard let model = r.model, !model.isEmpty else { throw .invalidParameter("model", "model: Field required.") }
    if !base.model.accepts(model: model) { throw .modelNotFound(model, served: base.model.name) }
    let tools = try self.tools(r)
    var turn = ChatTurn(messages: try self.messages(r), tools: tools, choice: try choice(r, tools: tools))
    turn.parallelToolCalls = r.toolChoice?.disableParallelToolUse != true
    turn.structuredOutput = r.outputConfig?.format != nil
    if let thinking = r.thinking {
      switch thinking.type {
      case "disabled": turn.variables["enable_thinking"] = .bool(false)
      // The model decides how much to think.
      case "adaptive", "between_tools": turn.variables["enable_thinking"] = .bool(true)
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
        turn.variables["enable_thinking"] = .bool(true)
        turn.thinkingBudget = budget
      default:
        throw .invalidParameter(
          "thinking", "thinking.type: must be 'enabled', 'disabled', 'adaptive' or 'between_tools', got '\(thinking.type)'.")
      }
    }
    if let effort = r.outputConfig?.effort, !["low", "medium", "high", "xhigh", "max"].contains(effort) {
      throw .invalidParameter("output_config", "output_config.effort: must be low, medium, high, xhigh or max.")
    }
    return turn
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
    try base.prepare(self.turn(r)).prompt
  }

  func plan(_ r: MessagesRequest, id: String) throws(APIError) -> GenerationPlan {
    let turn = try self.turn(r)
    guard let maxTokens = r.maxTokens else { throw .invalidParameter("max_tokens", "max_tokens: Field required.") }
    guard maxTokens >= 1 else {
      throw .invalidParameter("max_tokens", "max_tokens: must be at least 1, got \(maxTokens).")
    }
    // Anthropic's ranges, narrower than OpenAI's.
    if let t = r.temperature, !(t.isFinite && t >= 0 && t <= 1) {
      throw .invalidParameter("temperature", "temperature: must be between 0 and 1, got \(t).")
    }
    if let k = r.topK, k < 0 { throw .invalidParameter("top_k", "top_k: must be 0 or more, got \(k).") }
    let common = RequestMapper.Common(
      model: r.model, maxTokens: maxTokens, temperature: r.temperature, topP: r.topP, topK: r.topK,
      stop: r.stopSequences.map(StopSequences.init), seed: r.seed, responseFormat: try Self.format(r.outputConfig),
      stream: r.stream, user: r.metadata?.userID, cache: r.cache)
    return try base.plan(
      turn, common, endpoint: .messages, id: id, promptParam: "messages", maxTokensParam: "max_tokens")
  }
}

extension Templates.JSONValue {
  var isObject: Bool {
    if case .object = self { return true }
    return false
  }
}
