/// OpenAI's `response_format`: free text, any JSON object, or JSON matching a schema.
struct ResponseFormat: Sendable, Equatable, Decodable {
  enum Kind: String, Sendable, Decodable {
    case text
    case jsonObject = "json_object"
    case jsonSchema = "json_schema"
  }

  struct JSONSchemaSpec: Sendable, Equatable, Decodable {
    var name: String?
    var description: String?
    var schema: JSONValue?
    var strict: Bool?
  }

  var type: Kind
  var jsonSchema: JSONSchemaSpec?

  enum CodingKeys: String, CodingKey {
    case type
    case jsonSchema = "json_schema"
  }
}

/// What the output must look like, as the server hands it to the constraint builder.
enum OutputFormat: Sendable, Equatable {
  case text
  /// Any JSON object.
  case jsonObject
  /// JSON valid against this schema.
  case jsonSchema(JSONValue)
}
