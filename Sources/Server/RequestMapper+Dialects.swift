import Constraints
import Engine
import Templates

extension RequestMapper {
  /// A dialect's chat turn onto the one plan, the way OpenAI chat's is: rendered with its tools,
  /// its output read for reasoning and tool calls (`plan.chatOutput`), a forced call or a thinking
  /// budget constrained.
  func plan(
    _ turn: ChatTurn, _ c: Common, endpoint: GenerationPlan.Endpoint, id: String, promptParam: String,
    maxTokensParam: String
  ) throws(APIError) -> GenerationPlan {
    try plan(
      turn, prepared: prepare(turn), c, endpoint: endpoint, id: id, promptParam: promptParam,
      maxTokensParam: maxTokensParam)
  }

  /// The same with the turn already prepared (a dialect that needs the prompt's length first).
  func plan(
    _ turn: ChatTurn, prepared: (prompt: [Int32], output: ChatOutputOptions, constraint: (any TokenConstraint)?),
    _ c: Common, endpoint: GenerationPlan.Endpoint, id: String, promptParam: String, maxTokensParam: String
  ) throws(APIError) -> GenerationPlan {
    let (prompt, output, constraint) = prepared
    var plan = try build(
      c, endpoint: endpoint, id: id, prompts: [prompt], promptParam: promptParam, maxTokensParam: maxTokensParam,
      defaultMaxTokens: nil, topLogprobs: nil, echoTexts: nil, extraConstraint: constraint)
    plan.chatOutput = output.isPlain ? nil : output
    if !turn.tools.isEmpty || turn.thinkingBudget != nil || !turn.variables.isEmpty {
      // Tools, budgets and template variables change the output: they are part of the result-cache key.
      let tools = turn.tools.map(\.templateValue.compactText).joined(separator: ",")
      let variables = turn.variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.compactText)" }
      plan.outputFormatKey =
        (plan.outputFormatKey ?? "-") + "|tools=\(tools)|choice=\(turn.choice)|budget=\(turn.thinkingBudget ?? -1)|vars=\(variables)"
    }
    return plan
  }

  /// The output of a finished choice, split into reasoning, content and tool calls as the plan
  /// reads it; call ids come from `callID(plan:)`, so the whole response, the stream and the store agree.
  static func split(_ choice: ChoiceAccumulator?, plan: GenerationPlan) -> SplitChatOutput {
    let text = choice?.text ?? ""
    var k = 0
    return SplitChatOutput(text, options: plan.chatOutput ?? ChatOutputOptions()) {
      k += 1
      return callID(plan: plan, k)
    }
  }

  /// The `k`th call's id (from 1) of a plan's output: `call_` and the plan id's random part.
  static func callID(plan: GenerationPlan, _ k: Int) -> String {
    let random = plan.id.split(whereSeparator: { $0 == "_" || $0 == "-" }).last.map(String.init) ?? plan.id
    return "call_\(random.prefix(22))\(k)"
  }
}

extension ChatOutputSplitter {
  /// `finish()` with the plan's call ids (`RequestMapper.callID`), as the whole response has them.
  mutating func finish(plan: GenerationPlan) -> (deltas: [ChatOutputDelta], calls: [ToolCall]) {
    var k = 0
    return finish {
      k += 1
      return RequestMapper.callID(plan: plan, k)
    }
  }
}

extension ToolCall {
  /// The arguments as a JSON object (Anthropic's `input`, Ollama's `arguments`); `{}` when the text
  /// is not an object (a forced call's always is).
  var argumentsObject: Templates.JSONValue {
    if let v = try? Templates.JSONValue(parsing: arguments), case .object = v { return v }
    return .object([])
  }

  /// A history call as the chat templates read it (OpenAI's shape, arguments as an object).
  static func templateValue(id: String, name: String, arguments: Templates.JSONValue) -> Templates.JSONValue {
    .object([
      ("id", .string(id)), ("type", .string("function")),
      ("function", .object([("name", .string(name)), ("arguments", arguments)])),
    ])
  }
}
