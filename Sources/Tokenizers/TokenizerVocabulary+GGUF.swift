import GGUF

extension TokenizerVocabulary {
  /// Reads the `tokenizer.ggml.*` metadata of a GGUF file.
  public init(metadata m: GGUFMetadata) throws(TokenizerError) {
    guard let model = m["tokenizer.ggml.model"]?.string else { throw .missingMetadata("tokenizer.ggml.model") }
    guard let tokens = try Self.array(m, "tokenizer.ggml.tokens", \.string, "strings"), !tokens.isEmpty else {
      throw .missingMetadata("tokenizer.ggml.tokens")
    }
    // A special id the file states must be a token of the vocabulary: one that is not would
    // otherwise be dropped silently (or index past the tokens).
    func id(_ key: String) throws(TokenizerError) -> Int32? {
      guard let value = m[key] else { return nil }
      guard let i = value.int, let id = Int32(exactly: i), id >= 0, Int(id) < tokens.count else {
        throw .invalidSpecialToken(key: key, value: "\(value)", vocabularySize: tokens.count)
      }
      return id
    }
    // llama.cpp's defaults when the file does not say: SentencePiece adds BOS, byte-level BPE
    // only for the pre-tokenizers that ask for it (Llama 3, Tekken).
    let pre = m["tokenizer.ggml.pre"]?.string
    let defaultBOS = model == "llama" || (model == "gpt2" && PreTokenizerType(pre: pre)?.addsBOSByDefault == true)
    self.init(
      model: model,
      pre: pre,
      tokens: tokens,
      tokenTypes: try Self.array(m, "tokenizer.ggml.token_type", \.int, "integers")?.map {
        Int32(truncatingIfNeeded: $0)
      } ?? [],
      merges: try Self.array(m, "tokenizer.ggml.merges", \.string, "strings") ?? [],
      scores: try Self.array(m, "tokenizer.ggml.scores", \.float, "numbers"),
      bosID: try id("tokenizer.ggml.bos_token_id"),
      eosID: try id("tokenizer.ggml.eos_token_id"),
      unknownID: try id("tokenizer.ggml.unknown_token_id"),
      paddingID: try id("tokenizer.ggml.padding_token_id"),
      eotID: try id("tokenizer.ggml.eot_token_id"),
      eomID: try id("tokenizer.ggml.eom_token_id"),
      fimPadID: try id("tokenizer.ggml.fim_pad_token_id"),
      fimRepID: try id("tokenizer.ggml.fim_rep_token_id"),
      fimSepID: try id("tokenizer.ggml.fim_sep_token_id"),
      modelName: m["general.name"]?.string,
      addBOS: m["tokenizer.ggml.add_bos_token"]?.bool ?? defaultBOS,
      addEOS: m["tokenizer.ggml.add_eos_token"]?.bool ?? false,
      addSpacePrefix: m["tokenizer.ggml.add_space_prefix"]?.bool ?? true)
  }

  /// An array key's elements: nil when the key is absent, an error when it is not an array of
  /// `what` (a file whose merges are integers must not load as a tokenizer without merges).
  private static func array<T>(
    _ m: GGUFMetadata, _ key: String, _ element: (GGUFValue) -> T?, _ what: String
  ) throws(TokenizerError) -> [T]? {
    guard let value = m[key] else { return nil }
    guard let items = value.array else { throw .wrongMetadataType(key: key, expected: "an array of \(what)") }
    var out: [T] = []
    out.reserveCapacity(items.count)
    for item in items {
      guard let v = element(item) else { throw .wrongMetadataType(key: key, expected: "an array of \(what)") }
      out.append(v)
    }
    return out
  }
}
