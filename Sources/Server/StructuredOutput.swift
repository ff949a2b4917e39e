import Engine
import Tokenizers

/// SEAM (issue 6, response_format): JSON / JSON-schema constrained decoding lives on branch `jinja`
/// as a `TokenConstraint`. Until it is merged this returns nil, and requests asking for
/// `json_object` or `json_schema` get a 400 naming `response_format` rather than unconstrained
/// text. When it lands, build the constraint here from `format` and `tokenizer`.
enum StructuredOutput {
  static func constraintFactory(
    tokenizer: Tokenizer
  ) -> (@Sendable (OutputFormat) throws(APIError) -> any TokenConstraint)? {
    nil
  }
}
