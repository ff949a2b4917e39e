import Constraints
import Engine
import Foundation
import Templates
import Tokenizers

/// `response_format` → a `JSONConstraint` (grammar-constrained decoding over the vocabulary). The
/// vocabulary trie is built once per served model, on the first structured request.
enum StructuredOutput {
  static func constraintFactory(
    trie: LazyTrie
  ) -> (@Sendable (OutputFormat) throws(APIError) -> any TokenConstraint)? {
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

extension StructuredOutput {
  /// `tool_choice` `required` (all tools) or a named function (one): one call object whose
  /// arguments match the function's parameter schema.
  static func toolConstraintFactory(trie: LazyTrie) -> @Sendable ([ToolSchema]) throws(APIError) -> any TokenConstraint {
    return { tools throws(APIError) in
      do { return try ToolCallConstraint(tools: tools, vocabulary: trie.value) } catch {
        throw APIError.invalidParameter("tools", "this function's parameters cannot be enforced: \(error)")
      }
    }
  }

  /// A thinking budget that, when spent, forces "\n</think>\n\n" (as the model's tokenizer
  /// spells it).
  static func thinkingBudgetFactory(trie: LazyTrie, tokenizer: Tokenizer) -> @Sendable (Int, Bool) -> any TokenConstraint {
    let closing = tokenizer.encode("\n" + ChatOutputSplitter.thinkClose + "\n\n", addSpecial: false, parseSpecial: true)
    return { budget, startsThinking in
      ThinkingBudget(budget: budget, vocabulary: trie.value, closing: closing, startsThinking: startsThinking)
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
