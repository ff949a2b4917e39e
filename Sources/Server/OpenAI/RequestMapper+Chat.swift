import Constraints
import Engine
import Templates

extension RequestMapper {
  // MARK: - Chat

  func plan(_ r: ChatCompletionRequest, id: String) throws(APIError) -> GenerationPlan {
    if r.messages.isEmpty { throw .invalidParameter("messages", "'messages' must contain at least one message.") }
    let messages = try chatMessages(r)
    if r.maxTokens != nil, r.maxCompletionTokens != nil, r.maxTokens != r.maxCompletionTokens {
      throw .invalidParameter(
        "max_completion_tokens", "'max_tokens' and 'max_completion_tokens' disagree; send one of them.")
    }
    var topLogprobs: Int? = nil
    if let t = r.topLogprobs {
      guard r.logprobs == true else {
        throw .invalidParameter("top_logprobs", "'top_logprobs' needs 'logprobs' set to true.")
      }
      guard (0...20).contains(t) else {
        throw .invalidParameter("top_logprobs", "'top_logprobs' must be between 0 and 20, got \(t).")
      }
      topLogprobs = t
    } else if r.logprobs == true {
      topLogprobs = 0
    }
    let common = Common(
      model: r.model, maxTokens: r.maxCompletionTokens ?? r.maxTokens, temperature: r.temperature, topP: r.topP,
      topK: r.topK, minP: r.minP, n: r.n, stop: r.stop, seed: r.seed, presencePenalty: r.presencePenalty,
      frequencyPenalty: r.frequencyPenalty, repetitionPenalty: r.repetitionPenalty, logitBias: r.logitBias,
      ignoreEOS: r.ignoreEOS, responseFormat: r.responseFormat, stream: r.stream, streamOptions: r.streamOptions,
      user: r.user, speculative: r.speculative, draftTokens: r.draftTokens, cacheSalt: r.cacheSalt,
      cache: r.cache)
    if let metadata = r.metadata {
      guard metadata.count <= 16, metadata.allSatisfy({ $0.key.count <= 64 && $0.value.count <= 512 }) else {
        throw .invalidParameter("metadata", "'metadata' holds at most 16 pairs, keys up to 64 and values up to 512 characters.")
      }
    }
    let tools = try toolDefinitions(r.tools)
    let choice = try toolChoice(r.toolChoice, tools: tools)
    let budget = try thinkingBudget(effort: r.reasoningEffort, tokens: r.thinkingBudget)
    let turn = ChatTurn(
      messages: messages, tools: tools, toolsJSON: r.tools,
      choice: choice, parallelToolCalls: r.parallelToolCalls ?? true, variables: r.chatTemplateKwargs ?? [:],
      thinkingBudget: budget, structuredOutput: r.responseFormat.map { $0.type != .text } ?? false)
    let (prompt, output, constraint) = try prepare(turn)
    var plan = try build(
      common, endpoint: .chat, id: id, prompts: [prompt], promptParam: "messages",
      maxTokensParam:
        r.maxCompletionTokens != nil ? "max_completion_tokens" : "max_tokens",
      defaultMaxTokens: nil, topLogprobs: topLogprobs, echoTexts: nil, extraConstraint: constraint)
    plan.store = r.store ?? false
    plan.metadata = r.metadata
    plan.chatOutput = output.isPlain ? nil : output
    if !tools.isEmpty || budget != nil {
      // Tools and budgets change the output: they are part of the result-cache key.
      let toolKey = (turn.toolsJSON ?? []).map(\.compactText).joined(separator: ",")
      plan.outputFormatKey = (plan.outputFormatKey ?? "-") + "|tools=\(toolKey)|choice=\(choice)|budget=\(budget ?? -1)"
    }
    return plan
  }

  /// The conversation as the template sees it: OpenAI's message objects with `developer` read as
  /// `system`, members in the client's order, and assistant `tool_calls` arguments parsed from
  /// their JSON text into objects (as vLLM and llama-server pass them: templates print them with
  /// `tojson` and index into them).
  func chatMessages(_ r: ChatCompletionRequest) throws(APIError) -> [Templates.JSONValue] {
    let ordered = r.ordered?["messages"]?.arrayValue
    var out: [Templates.JSONValue] = []
    for (i, m) in r.messages.enumerated() {
      let role: String
      switch m.role {
      case "system", "developer": role = "system"
      case "user", "assistant", "tool": role = m.role
      default:
        throw .invalidParameter(
          "messages[\(i)].role", "Role '\(m.role)' is not supported; use system, developer, user, assistant or tool.")
      }
      switch m.content {
      case .none:
        guard role == "assistant" else {
          throw .invalidParameter("messages[\(i)].content", "'content' is required for \(m.role) messages.")
        }
      case .text: break
      case .parts(let parts):
        for (j, part) in parts.enumerated() where part.type != "text" || part.text == nil {
          throw .invalidParameter(
            "messages[\(i)].content[\(j)]", "Only text content parts are supported (got type '\(part.type)').")
        }
      }
      if m.toolCalls != nil, role != "assistant" {
        throw .invalidParameter("messages[\(i)].tool_calls", "Only assistant messages carry 'tool_calls'.")
      }
      var members: [(key: String, value: Templates.JSONValue)]
      if let ordered, i < ordered.count, case .object(let original) = ordered[i] {
        members = original
      } else {
        members = [("role", .string(m.role))]
        switch m.content {
        case .none: members.append(("content", .null))
        case .text(let s): members.append(("content", .string(s)))
        case .parts(let parts): members.append(("content", .string(parts.compactMap(\.text).joined())))
        }
        if let name = m.name { members.append(("name", .string(name))) }
        if let calls = m.toolCalls { members.append(("tool_calls", .array(calls))) }
        if let id = m.toolCallID { members.append(("tool_call_id", .string(id))) }
      }
      for k in members.indices {
        switch members[k].key {
        case "role": members[k].value = .string(role)
        case "content":
          // Part lists of text become one string (the prompt the plain path always built).
          if case .array(let parts) = members[k].value {
            members[k].value = .string(parts.compactMap { $0["text"]?.stringValue }.joined())
          }
        case "tool_calls":
          guard case .array(let calls) = members[k].value else {
            throw .invalidParameter("messages[\(i)].tool_calls", "'tool_calls' must be a list of calls.")
          }
          members[k].value = .array(calls.map(Self.parsedArguments))
        default: break
        }
      }
      out.append(.object(members))
    }
    return out
  }

  /// A history call with `function.arguments` as an object when its JSON text parses to one.
  static func parsedArguments(_ call: Templates.JSONValue) -> Templates.JSONValue {
    guard case .object(var members) = call, let fi = members.firstIndex(where: { $0.key == "function" }),
      case .object(var function) = members[fi].value,
      let ai = function.firstIndex(where: { $0.key == "arguments" }),
      case .string(let text) = function[ai].value,
      let parsed = try? Templates.JSONValue(parsing: text), case .object = parsed
    else { return call }
    function[ai].value = parsed
    members[fi].value = .object(function)
    return .object(members)
  }

  func toolDefinitions(_ tools: [Templates.JSONValue]?) throws(APIError) -> [ToolDefinition] {
    guard let tools else { return [] }
    guard tools.count <= 128 else { throw .invalidParameter("tools", "At most 128 tools, got \(tools.count).") }
    var out: [ToolDefinition] = []
    for (i, t) in tools.enumerated() {
      guard t["type"]?.stringValue == "function", let f = t["function"], case .object = f else {
        throw .invalidParameter("tools[\(i)]", "Each tool must be {\"type\": \"function\", \"function\": {\"name\": …}}.")
      }
      guard let name = f["name"]?.stringValue, ToolDefinition.isValidName(name) else {
        throw .invalidParameter(
          "tools[\(i)].function.name", "A function name is 1 to 64 letters, digits, underscores or dashes.")
      }
      if out.contains(where: { $0.name == name }) {
        throw .invalidParameter("tools[\(i)].function.name", "Two tools are named '\(name)'.")
      }
      let parameters = f["parameters"]
      if let parameters, case .object = parameters {} else if parameters != nil {
        throw .invalidParameter("tools[\(i)].function.parameters", "'parameters' must be a JSON Schema object.")
      }
      out.append(ToolDefinition(name: name, description: f["description"]?.stringValue, parameters: parameters))
    }
    return out
  }

  func toolChoice(_ value: ChatCompletionRequest.ToolChoiceValue?, tools: [ToolDefinition]) throws(APIError) -> ToolChoice {
    switch value {
    case nil: return tools.isEmpty ? .none : .auto
    case .mode("auto")?: return tools.isEmpty ? .none : .auto
    case .mode("none")?: return .none
    case .mode("required")?:
      guard !tools.isEmpty else { throw .invalidParameter("tool_choice", "'tool_choice': 'required' needs 'tools'.") }
      return .required
    case .mode(let other)?:
      throw .invalidParameter(
        "tool_choice", "'tool_choice' must be 'auto', 'none', 'required' or a function, got '\(other)'.")
    case .function(let name)?:
      guard tools.contains(where: { $0.name == name }) else {
        throw .invalidParameter("tool_choice", "'tool_choice' names '\(name)', which is not one of 'tools'.")
      }
      return .function(name)
    }
  }
}

/// One chat request's conversation and its tool and reasoning settings, as every dialect maps it.
struct ChatTurn: Sendable {
  var messages: [Templates.JSONValue]
  var tools: [ToolDefinition] = []
  /// The tools as the client sent them (members in its order), for the template; nil: built from
  /// `tools`.
  var toolsJSON: [Templates.JSONValue]?
  var choice: ToolChoice = .none
  var parallelToolCalls = true
  var variables: [String: Templates.JSONValue] = [:]
  var thinkingBudget: Int?
  /// The request also asks for a structured `response_format`.
  var structuredOutput = false
}

extension RequestMapper {
  /// Renders a chat turn and decides how its output is read and constrained: the prompt ids, the
  /// output options, and the constraint (a forced call, or a thinking budget).
  func prepare(_ turn: ChatTurn) throws(APIError) -> (prompt: [Int32], output: ChatOutputOptions, constraint: (any TokenConstraint)?) {
    let prompt: [Int32]
    var opensThinking = false
    if let render = model.renderChat {
      let tools = turn.tools.isEmpty ? nil : (turn.toolsJSON ?? turn.tools.map(\.templateValue))
      let rendered = try render(ChatPrompt(messages: turn.messages, tools: tools, variables: turn.variables))
      prompt = rendered.ids
      opensThinking = rendered.opensThinking
    } else {
      prompt = try model.encodeChat(
        turn.messages.map { m in
          ChatMessage(role: m["role"]?.stringValue ?? "user", content: m["content"]?.stringValue ?? "")
        })
    }
    var output = ChatOutputOptions()
    output.splitsReasoning = model.reasoningFormat == .deepseek
    output.startsThinking = opensThinking
    output.parallelToolCalls = turn.parallelToolCalls
    if !turn.tools.isEmpty && turn.choice != .none { output.toolFormat = model.toolCallFormat }
    var constraint: (any TokenConstraint)?
    switch turn.choice {
    case .required, .function:
      if turn.structuredOutput {
        throw .invalidParameter("response_format", "A structured 'response_format' cannot be combined with a forced tool call.")
      }
      guard let make = model.makeToolConstraint else {
        throw .invalidParameter("tool_choice", "Forced tool calls need constrained decoding, which this build lacks.")
      }
      let chosen = turn.tools.filter { t in
        if case .function(let name) = turn.choice { return t.name == name }
        return true
      }
      constraint = try make(chosen.map(\.schema))
      output.forcedCall = true
      // The call is the whole output: thinking is not split out of it.
      output.splitsReasoning = false
    case .auto, .none:
      if let budget = turn.thinkingBudget, !turn.structuredOutput, model.templateThinks || opensThinking,
        let make = model.makeThinkingBudget
      {
        constraint = make(budget, opensThinking)
      }
    }
    return (prompt, output, constraint)
  }

  /// OpenAI's `reasoning_effort` as a thinking-token budget: `low` 512, `medium` 2048, `high`
  /// 8192 (`minimal` 0, `none` 0); `thinking_budget` sets it directly (0 to 1,000,000). Nil: no
  /// budget.
  func thinkingBudget(effort: String?, tokens: Int?) throws(APIError) -> Int? {
    if let tokens {
      guard (0...1_000_000).contains(tokens) else {
        throw .invalidParameter("thinking_budget", "'thinking_budget' must be between 0 and 1000000, got \(tokens).")
      }
      return tokens
    }
    guard let effort else { return nil }
    guard let budget = RequestMapper.reasoningEffortBudgets[effort] else {
      throw .invalidParameter(
        "reasoning_effort", "'reasoning_effort' must be 'none', 'minimal', 'low', 'medium' or 'high', got '\(effort)'.")
    }
    return budget
  }

  static let reasoningEffortBudgets = ["none": 0, "minimal": 0, "low": 512, "medium": 2048, "high": 8192]
}
