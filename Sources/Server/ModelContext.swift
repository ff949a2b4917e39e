import Constraints
import Engine
import Templates

/// What request mapping needs to know of the served model: kept apart from the engine so validation
/// and prompt building are testable without weights.
struct ModelContext: Sendable {
  /// The id clients pass as `model` (and `/v1/models` lists).
  var name: String
  /// Other names accepted as `model` (e.g. the GGUF file name).
  var aliases: Set<String> = []
  var contextLength: Int
  var vocabularySize: Int
  /// A completions prompt to token ids (BOS added when the model wants it; control tokens parsed).
  var encodePrompt: @Sendable (String) -> [Int32]
  /// A conversation to token ids through the model's chat template, ending with the assistant's turn.
  var encodeChat: @Sendable ([ChatMessage]) throws(APIError) -> [Int32]
  /// Builds the decoding constraint for a structured `response_format`; nil when this build has no
  /// constrained decoding (then such requests get a 400 instead of unconstrained text).
  var makeConstraint: (@Sendable (OutputFormat) throws(APIError) -> any TokenConstraint)?
  /// Renders a conversation given as JSON messages, with tools and extra template variables,
  /// through the model's template and encodes it; returns the ids and the prompt text (whose end
  /// tells whether the template opened a thinking block). Nil in weightless test contexts, which
  /// then go through `encodeChat` (tools and template variables unseen).
  var renderChat: (@Sendable (ChatPrompt) throws(APIError) -> RenderedChat)?
  /// How this model writes tool calls (from its template).
  var toolCallFormat: ToolCallFormat = .generic
  /// The template writes thinking markers (`<think>`): a thinking budget applies.
  var templateThinks = false
  /// The server's `--reasoning-format`.
  var reasoningFormat: ReasoningFormat = .deepseek
  /// Builds the constraint for `tool_choice` `required` / a named function; nil without
  /// constrained decoding.
  var makeToolConstraint: (@Sendable ([ToolSchema]) throws(APIError) -> any TokenConstraint)?
  /// Builds a thinking budget: (budget in tokens, whether the prompt opened the thinking block).
  var makeThinkingBudget: (@Sendable (Int, Bool) -> any TokenConstraint)?
  /// Whether the engine has a draft model, so requests may ask for `"speculative": "draft_model"`.
  var hasDraftModel = false
  /// Sampling for the parameters a request leaves out (the model's recommendation, else llama.cpp's).
  var samplingDefaults = SamplingParameters()

  /// Whether a request's `model` names the served model. Leaving it out means the served model, and
  /// so does "unknown": what SGLang's router (smg) writes in when a request it forwards has none.
  func accepts(model: String?) -> Bool {
    guard let model, !model.isEmpty, model != "unknown" else { return true }
    return model == name || aliases.contains(model)
  }
}

/// A conversation for the chat template: messages as JSON objects (OpenAI's shape), the tools to
/// declare, and extra variables (`chat_template_kwargs`).
struct ChatPrompt: Sendable {
  var messages: [Templates.JSONValue]
  var tools: [Templates.JSONValue]?
  var variables: [String: Templates.JSONValue] = [:]
}

/// A rendered and encoded conversation.
struct RenderedChat: Sendable {
  var ids: [Int32]
  var text: String

  /// The generation prompt ends inside an open thinking block (`…<think>\n`), so the output starts
  /// with reasoning.
  var opensThinking: Bool {
    guard let open = text.range(of: ChatOutputSplitter.thinkOpen, options: .backwards) else { return false }
    return text[open.upperBound...].allSatisfy(\.isWhitespace)
  }
}
