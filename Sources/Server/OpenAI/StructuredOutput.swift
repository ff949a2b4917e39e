import Engine
import Foundation
import Templates
import Tokenizers

/// `response_format` → a `JSONConstraint` (grammar-constrained decoding over the vocabulary). The
/// vocabulary trie is built once per served model, on the first structured request.
enum StructuredOutput {
  static func constraintFactory(
    tokenizer: Tokenizer
  ) -> (@Sendable (OutputFormat) throws(APIError) -> any TokenConstraint)? {
    let trie = LazyTrie(tokenizer: tokenizer)
    return { format throws(APIError) in
      let schema: Templates.JSONValue?
      switch format {
      case .text: throw APIError.invalidParameter("response_format", "text needs no constraint")
      case .jsonObject: schema = nil
      case .jsonSchema(let s):
        let data: Data
        do { data = try JSONEncoder().encode(s) } catch {
          throw APIError.invalidParameter("response_format", "the schema is not valid JSON")
        }
        do { schema = try Templates.JSONValue(parsing: String(decoding: data, as: UTF8.self)) } catch {
          throw APIError.invalidParameter("response_format", "the schema is not valid JSON: \(error)")
        }
      }
      do { return try JSONConstraint(schema: schema, vocabulary: trie.value) } catch {
        throw APIError.invalidParameter("response_format", "unsupported JSON schema: \(error)")
      }
    }
  }
}

/// Builds the token trie on first use and shares it.
final class LazyTrie: @unchecked Sendable {
  private let tokenizer: Tokenizer
  private let lock = NSLock()
  private var trie: TokenTrie?

  init(tokenizer: Tokenizer) { self.tokenizer = tokenizer }

  var value: TokenTrie {
    lock.lock()
    defer { lock.unlock() }
    if let trie { return trie }
    let t = TokenTrie(tokenizer: tokenizer)
    trie = t
    return t
  }
}
