/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable, Codable {
  public var role: String
  public var content: String

  public init(role: String, content: String) {
    self.role = role
    self.content = content
  }
}

/// Turns a conversation into prompt text the way the model was trained to see it.
///
/// This recognises the template families of the shipped models from the GGUF's
/// `tokenizer.chat_template`; a general Jinja interpreter replaces it in the server issue.
public enum ChatTemplate: Sendable, Equatable {
  /// `<|im_start|>role\ncontent<|im_end|>\n`, with the system prompt the template inserts when the
  /// conversation has none.
  case chatML(defaultSystem: String?)
  /// `<start_of_turn>user\ncontent<end_of_turn>\n`; Gemma folds a system message into the first user turn.
  case gemma

  /// Picks the family from the template source; ChatML when the model ships none.
  public init(source: String?) {
    guard let source else {
      self = .chatML(defaultSystem: nil)
      return
    }
    if source.contains("<start_of_turn>") {
      self = .gemma
      return
    }
    // Templates spell the newline either literally or as an escape inside a Jinja string.
    let marker = ["<|im_start|>system\n", "<|im_start|>system\\n"].first { source.contains($0) }
    if let marker, let start = source.range(of: marker), source.contains("messages[0]['role'] != 'system'"),
      let end = source.range(of: "<|im_end|>", range: start.upperBound..<source.endIndex)
    {
      self = .chatML(defaultSystem: String(source[start.upperBound..<end.lowerBound]))
    } else {
      self = .chatML(defaultSystem: nil)
    }
  }

  /// The prompt text for `messages`, ending with the assistant's opening when `addGenerationPrompt`.
  public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) -> String {
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
    }
    return out
  }
}
