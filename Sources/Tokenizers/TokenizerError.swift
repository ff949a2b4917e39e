/// Why a vocabulary could not be turned into a tokenizer.
public enum TokenizerError: Error, Sendable, Equatable, CustomStringConvertible {
  /// `tokenizer.ggml.model` names a backend this build does not implement.
  case unsupportedModel(String)
  /// `tokenizer.ggml.pre` names a pre-tokenizer whose splitting rules are not implemented;
  /// guessing would silently produce different token ids than the model was trained on.
  case unsupportedPreTokenizer(String)
  /// The vocabulary has no tokens.
  case emptyVocabulary
  /// A required `tokenizer.ggml.*` key is absent from the model file.
  case missingMetadata(String)
  /// `tokenTypes` is present but its length differs from `tokens`.
  case tokenTypeCountMismatch(tokens: Int, types: Int)
  /// `scores` is present but its length differs from `tokens`.
  case scoreCountMismatch(tokens: Int, scores: Int)
  /// A merge rule lacks the single space separating its two halves.
  case malformedMerge(index: Int, text: String)
  /// A special token id (BOS, EOS, …) lies outside the vocabulary.
  case specialTokenOutOfRange(name: String, id: Int32)
  /// A `tokenizer.ggml.*` key holds a value of the wrong type.
  case wrongMetadataType(key: String, expected: String)
  /// A `tokenizer.ggml.*_token_id` key holds something that is not a token of the vocabulary.
  case invalidSpecialToken(key: String, value: String, vocabularySize: Int)

  public var description: String {
    switch self {
    case .unsupportedModel(let m):
      return "tokenizer model '\(m)' is not supported (implemented: 'gpt2' byte-level BPE, 'llama' SentencePiece)"
    case .unsupportedPreTokenizer(let p):
      return "pre-tokenizer '\(p)' (tokenizer.ggml.pre) is not supported; supported: "
        + PreTokenizerType.supportedNames.joined(separator: ", ")
    case .missingMetadata(let key):
      return "the model file has no '\(key)' metadata, so no tokenizer can be built"
    case .emptyVocabulary:
      return "the vocabulary has no tokens"
    case .tokenTypeCountMismatch(let t, let ty):
      return "vocabulary has \(t) tokens but \(ty) token types"
    case .scoreCountMismatch(let t, let s):
      return "vocabulary has \(t) tokens but \(s) scores"
    case .malformedMerge(let i, let text):
      return "merge #\(i) '\(text)' is not two parts separated by a space"
    case .specialTokenOutOfRange(let name, let id):
      return "\(name) token id \(id) is outside the vocabulary"
    case .wrongMetadataType(let key, let expected):
      return "the model file's '\(key)' is not \(expected)"
    case .invalidSpecialToken(let key, let value, let n):
      return "\(key) is \(value), which is not a token id of this vocabulary (0..<\(n))"
    }
  }
}
