/// The body of Ollama's `POST /api/generate`. `stream` defaults to true, as Ollama's does.
struct OllamaGenerateRequest: Sendable, Decodable {
  var model: String?
  var prompt: String?
  var suffix: String?
  /// Replaces the template's system prompt.
  var system: String?
  /// A Go template replacing the model's own: not supported (400 when set).
  var template: String?
  /// Token ids of an earlier exchange (deprecated in Ollama): not supported (400 when set).
  var context: [Int]?
  var stream: Bool?
  /// The prompt goes to the model as is, without the chat template.
  var raw: Bool?
  var format: JSONValue?
  var options: OllamaOptions?
  var images: [String]?
  var keepAlive: JSONValue?
  var think: JSONValue?

  enum CodingKeys: String, CodingKey {
    case model, prompt, suffix, system, template, context, stream, raw, format, options, images, think
    case keepAlive = "keep_alive"
  }
}
