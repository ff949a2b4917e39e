import ArgumentParser
import Engine
import Foundation
import GGUF
import Tokenizers

/// `peregrine count`: how many tokens a prompt is, before sending it (no weights are loaded).
struct Count: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Count the tokens of a text, a file, or a chat request (JSON with \"messages\").",
    discussion: """
      TEXT is taken as a file path when such a file exists. A JSON object with "messages" is
      counted as the server counts a chat request: rendered with the model's chat template, BOS
      added as the model wants. Anything else is counted as a raw prompt (BOS added as the model
      says). With --price the cost of the prompt is printed too.
      """)

  @OptionGroup var modelOptions: ModelOptions
  @Option(help: "Input price in dollars per million tokens, to print the prompt's cost.") var price: Double?
  @Flag(help: "Print JSON.") var json = false
  @Argument(help: "The text, or a file holding it.") var input: String

  func run() throws {
    let file = try modelOptions.openFile()
    let text: String
    if FileManager.default.fileExists(atPath: input) {
      text = try String(contentsOfFile: input, encoding: .utf8)
    } else {
      text = input
    }
    let count: Int
    var kind = "prompt"
    do {
      let vocabulary = try TokenizerVocabulary(metadata: file.metadata)
      let tokenizer = try Tokenizer(vocabulary: vocabulary)
      if let messages = Self.messages(text) {
        let template = ChatTemplate(source: file.metadata["tokenizer.chat_template"]?.string, vocabulary: vocabulary)
        count = try template.encode(messages, tokenizer: tokenizer).count
        kind = "chat"
      } else {
        count = tokenizer.encode(text, addSpecial: true, parseSpecial: true).count
      }
    } catch { throw CLIError(error) }
    let cost = price.map { Double(count) * $0 / 1_000_000 }
    if json {
      struct Out: Encodable {
        var inputTokens: Int
        var kind: String
        var cost: Double?
        enum CodingKeys: String, CodingKey {
          case kind, cost
          case inputTokens = "input_tokens"
        }
      }
      printJSON(Out(inputTokens: count, kind: kind, cost: cost))
    } else {
      print(count)
      if let cost { print(String(format: "$%.6f", cost)) }
    }
  }

  /// The messages of a chat request (`{"messages": [{"role", "content"}…]}`), or nil.
  static func messages(_ text: String) -> [ChatMessage]? {
    guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
      let list = object["messages"] as? [[String: Any]]
    else { return nil }
    return list.map { m in
      let content: String
      if let s = m["content"] as? String {
        content = s
      } else if let parts = m["content"] as? [[String: Any]] {
        content = parts.compactMap { $0["text"] as? String }.joined(separator: "\n")
      } else {
        content = ""
      }
      let role = m["role"] as? String ?? "user"
      return ChatMessage(role: role == "developer" ? "system" : role, content: content)
    }
  }
}
