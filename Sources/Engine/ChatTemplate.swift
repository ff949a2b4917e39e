import Templates
import Tokenizers

/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable, Codable {
  public var role: String
  public var content: String

  public init(role: String, content: String) {
    self.role = role
    self.content = content
  }

  /// The message as a template sees it: `{"role": …, "content": …}`.
  public var json: JSONValue { .object([("role", .string(role)), ("content", .string(content))]) }
}

/// Turns a conversation into prompt text the way the model was trained to see it.
///
/// A model's own `tokenizer.chat_template` is rendered by the Jinja interpreter when it parses and
/// renders a plain conversation; otherwise (no template, or one outside the supported subset) the
/// hand-written renderer of the family the template looks like is used.
public enum ChatTemplate: Sendable, Equatable {
  /// `<|im_start|>role\ncontent<|im_end|>\n`, with the system prompt the template inserts when the
  /// conversation has none.
  case chatML(defaultSystem: String?)
  /// `<start_of_turn>user\ncontent<end_of_turn>\n`; Gemma folds a system message into the first user turn.
  case gemma
  /// The model's own Jinja template.
  case jinja(JinjaChatTemplate)

  /// The model's template when the interpreter handles it, else the hand-written family it looks
  /// like (ChatML when the model ships none).
  /// - Parameters:
  ///   - bosToken, eosToken: the texts templates see as `bos_token` / `eos_token`.
  public init(source: String?, bosToken: String = "", eosToken: String = "") {
    if let source, let t = try? JinjaChatTemplate(source: source, bosToken: bosToken, eosToken: eosToken) {
      self = .jinja(t)
    } else {
      self = ChatTemplate.handWritten(source: source)
    }
  }

  /// `init(source:…)` with the special-token texts taken from the model's vocabulary. A model
  /// without a template whose vocabulary has Gemma's turn markers gets the Gemma renderer.
  public init(source: String?, vocabulary: TokenizerVocabulary) {
    func text(_ id: Int32?) -> String {
      guard let id, id >= 0, Int(id) < vocabulary.tokens.count else { return "" }
      return vocabulary.tokens[Int(id)]
    }
    if source == nil, vocabulary.tokens.contains("<start_of_turn>") {
      self = .gemma
      return
    }
    self.init(source: source, bosToken: text(vocabulary.bosID), eosToken: text(vocabulary.eosID))
  }

  /// Recognises the template family from its source without interpreting it.
  public static func handWritten(source: String?) -> ChatTemplate {
    guard let source else { return .chatML(defaultSystem: nil) }
    if source.contains("<start_of_turn>") { return .gemma }
    // Templates spell the newline either literally or as an escape inside a Jinja string.
    let marker = ["<|im_start|>system\n", "<|im_start|>system\\n"].first { source.contains($0) }
    if let marker, let start = source.range(of: marker), source.contains("messages[0]['role'] != 'system'"),
      let end = source.range(of: "<|im_end|>", range: start.upperBound..<source.endIndex)
    {
      return .chatML(defaultSystem: String(source[start.upperBound..<end.lowerBound]))
    }
    return .chatML(defaultSystem: nil)
  }

  /// The prompt text for `messages`, ending with the assistant's opening when `addGenerationPrompt`.
  /// Throws `JinjaError.raised` when the model's template rejects the conversation (e.g. roles
  /// that do not alternate): a client error.
  public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true, tools: [JSONValue]? = nil)
    throws(JinjaError) -> String
  {
    try render(messages: messages.map(\.json), addGenerationPrompt: addGenerationPrompt, tools: tools)
  }

  /// `messages` rendered and encoded for `tokenizer`, with BOS first when the vocabulary adds one
  /// to text and the template did not write it (the server does the same; a Gemma prompt without
  /// BOS yields noise).
  public func encode(_ messages: [ChatMessage], tokenizer: Tokenizer) throws(JinjaError) -> [Int32] {
    ChatTemplate.encode(rendered: try render(messages), tokenizer: tokenizer)
  }

  /// A rendered prompt's ids: control tokens parsed, BOS first when the vocabulary adds one and
  /// the template did not write it.
  public static func encode(rendered text: String, tokenizer: Tokenizer) -> [Int32] {
    var ids = tokenizer.encode(text, addSpecial: false, parseSpecial: true)
    if let bos = tokenizer.bosID, tokenizer.encode("", addSpecial: true, parseSpecial: false).first == bos,
      ids.first != bos
    {
      ids.insert(bos, at: 0)
    }
    return ids
  }

  /// Renders messages given as JSON objects, as an OpenAI request carries them: `content` is a
  /// string or a list of parts (`{"type":"text","text":…}`), other members (`name`, `tool_calls`,
  /// …) pass through to the template. Text parts are joined with "\n" for templates (and
  /// hand-written renderers) that expect a string. `variables` are extra template variables
  /// (vLLM's `chat_template_kwargs`, e.g. `enable_thinking`); hand-written renderers ignore them.
  public func render(
    messages: [JSONValue], addGenerationPrompt: Bool = true, tools: [JSONValue]? = nil,
    variables: [String: JSONValue] = [:]
  ) throws(JinjaError) -> String {
    if case .jinja(let t) = self {
      return try t.render(
        messages: messages, addGenerationPrompt: addGenerationPrompt, tools: tools, variables: variables)
    }
    var plain: [ChatMessage] = []
    for m in messages {
      guard let role = m["role"]?.stringValue else { throw .raised("every message needs a string 'role'") }
      plain.append(ChatMessage(role: role, content: try ChatTemplate.flatten(m["content"]).stringValue ?? ""))
    }
    return renderHandWritten(plain, addGenerationPrompt: addGenerationPrompt)
  }

  /// A content-part list as one string; strings, null and missing content pass through.
  static func flatten(_ content: JSONValue?) throws(JinjaError) -> JSONValue {
    guard case .array(let parts)? = content else { return content ?? .null }
    var texts: [String] = []
    for p in parts {
      guard p["type"]?.stringValue == "text", let text = p["text"]?.stringValue else {
        throw .raised("only text content parts are supported")
      }
      texts.append(text)
    }
    return .string(texts.joined(separator: "\n"))
  }

  private func renderHandWritten(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
    var out = ""
    switch self {
    case .chatML(let defaultSystem):
      if let defaultSystem, messages.first?.role != "system" {
        out += "<|im_start|>system\n\(defaultSystem)<|im_end|>\n"
      }
      for m in messages { out += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
      if addGenerationPrompt { out += "<|im_start|>assistant\n" }
    case .gemma:
      var pendingSystem = ""
      for m in messages {
        if m.role == "system" {
          pendingSystem += m.content + "\n\n"
          continue
        }
        let role = m.role == "assistant" ? "model" : m.role
        out += "<start_of_turn>\(role)\n\(pendingSystem)\(m.content)<end_of_turn>\n"
        pendingSystem = ""
      }
      if addGenerationPrompt { out += "<start_of_turn>model\n" }
    case .jinja:
      break
    }
    return out
  }
}

/// A model's own chat template with the values it reads besides the conversation.
public struct JinjaChatTemplate: Sendable, Equatable {
  public let template: JinjaTemplate
  public var bosToken: String
  public var eosToken: String
  public var limits = JinjaLimits()
  /// Whether the template looks at content parts itself (`is string`, `['type']`, …); when not,
  /// part lists are joined into one string before it sees them.
  public let acceptsContentParts: Bool

  /// Parses `source` and checks that it renders a one-message conversation.
  public init(source: String, bosToken: String = "", eosToken: String = "") throws(JinjaError) {
    template = try JinjaTemplate(source: source)
    self.bosToken = bosToken
    self.eosToken = eosToken
    acceptsContentParts = JinjaChatTemplate.partMarkers.contains { source.contains($0) }
    _ = try render(messages: [ChatMessage(role: "user", content: "Hi").json], addGenerationPrompt: true, tools: nil)
  }

  /// How templates that handle content-part lists themselves test or walk `content`.
  static let partMarkers = [
    "content is string", "content'] is string", "content is not string", "content'] is not string",
    "content is iterable", "content'] is iterable", "content is sequence", "content'] is sequence",
    "in message['content']", "in message.content", "in content %}", "in content -%}",
  ]

  public static func == (a: JinjaChatTemplate, b: JinjaChatTemplate) -> Bool {
    a.template.source == b.template.source && a.bosToken == b.bosToken && a.eosToken == b.eosToken && a.limits == b.limits
  }

  /// Renders with the variables HF transformers passes: `messages`, `add_generation_prompt`,
  /// `bos_token`, `eos_token`, `tools` when given, and any extra `variables` (which cannot
  /// replace those).
  public func render(
    messages: [JSONValue], addGenerationPrompt: Bool, tools: [JSONValue]?, variables: [String: JSONValue] = [:]
  ) throws(JinjaError) -> String {
    do {
      return try render(messages, flattenParts: !acceptsContentParts, addGenerationPrompt, tools, variables)
    } catch .runtime(let why) where acceptsContentParts && messages.contains(where: { $0["content"]?.isArray == true }) {
      // The guess was wrong for this template: try once more with parts joined into strings.
      do {
        return try render(messages, flattenParts: true, addGenerationPrompt, tools, variables)
      } catch {
        throw .runtime(why)
      }
    }
  }

  private func render(
    _ messages: [JSONValue], flattenParts: Bool, _ addGenerationPrompt: Bool, _ tools: [JSONValue]?,
    _ variables: [String: JSONValue]
  ) throws(JinjaError) -> String {
    var shaped = messages
    if flattenParts {
      for (i, m) in messages.enumerated() {
        guard case .object(var members) = m, case .array? = m["content"] else { continue }
        let flat = try ChatTemplate.flatten(m["content"])
        for k in members.indices where members[k].key == "content" { members[k].value = flat }
        shaped[i] = .object(members)
      }
    }
    var context = variables
    context.merge([
      "messages": .array(shaped),
      "add_generation_prompt": .bool(addGenerationPrompt),
      "bos_token": .string(bosToken),
      "eos_token": .string(eosToken),
    ]) { _, standard in standard }
    if let tools { context["tools"] = .array(tools) }
    return try template.render(context, limits: limits)
  }
}
