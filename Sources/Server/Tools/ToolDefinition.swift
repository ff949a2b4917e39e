import Constraints
import Templates

/// A function the client offers the model, in every dialect's terms: OpenAI's
/// `{"type":"function","function":{…}}`, Anthropic's `{"name","description","input_schema"}`,
/// Ollama's OpenAI-shaped tools all map onto it.
struct ToolDefinition: Sendable, Equatable {
  var name: String
  var description: String?
  /// JSON Schema of the arguments object; nil when the client gave none (any object).
  var parameters: Templates.JSONValue?

  /// The tool as chat templates expect it (the OpenAI/HF shape, which every template in
  /// llama.cpp's collection reads): `{"type":"function","function":{"name","description","parameters"}}`.
  var templateValue: Templates.JSONValue {
    var function: [(key: String, value: Templates.JSONValue)] = [("name", .string(name))]
    if let description { function.append(("description", .string(description))) }
    if let parameters { function.append(("parameters", parameters)) }
    return .object([("type", .string("function")), ("function", .object(function))])
  }

  /// What constrained decoding needs of it.
  var schema: ToolSchema { ToolSchema(name: name, parameters: parameters) }

  /// Function names as OpenAI allows them: letters, digits, `_` and `-`, 1 to 64 characters.
  static func isValidName(_ name: String) -> Bool {
    (1...64).contains(name.utf8.count)
      && name.utf8.allSatisfy { b in
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D
      }
  }
}

/// Whether and which tool the model must call: OpenAI's `tool_choice` (Anthropic's `auto`, `any`,
/// `tool`, `none` map onto the same four).
enum ToolChoice: Sendable, Equatable {
  /// The model decides; calls it writes in its family's format are parsed out.
  case auto
  /// No call is parsed: the output is all content.
  case none
  /// Exactly one call of one of the tools, enforced by constrained decoding.
  case required
  /// Exactly one call of this function, enforced by constrained decoding.
  case function(String)

  /// Whether decoding is constrained to a call.
  var isForced: Bool {
    switch self {
    case .required, .function: true
    case .auto, .none: false
    }
  }
}

/// One call the model made: `arguments` is JSON text (OpenAI sends it as a string; Anthropic's
/// `tool_use.input` is the same text parsed).
struct ToolCall: Sendable, Equatable {
  var id: String
  var name: String
  var arguments: String

  /// OpenAI's id shape, `call_` and 24 random letters and digits.
  static func newID() -> String {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    return "call_" + String((0..<24).map { _ in alphabet.randomElement()! })
  }
}

extension Templates.JSONValue {
  /// The items of an array value, else nil.
  var arrayValue: [Templates.JSONValue]? {
    if case .array(let items) = self { return items }
    return nil
  }
}
