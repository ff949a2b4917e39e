import GGUF

extension TokenizerVocabulary {
  /// Reads the `tokenizer.ggml.*` metadata of a GGUF file.
  public init(metadata m: GGUFMetadata) throws(TokenizerError) {
    guard let model = m["tokenizer.ggml.model"]?.string else { throw .missingMetadata("tokenizer.ggml.model") }
    guard let tokens = m["tokenizer.ggml.tokens"]?.stringArray, !tokens.isEmpty else {
      throw .missingMetadata("tokenizer.ggml.tokens")
    }
    func id(_ key: String) -> Int32? { m[key]?.int.flatMap { Int32(exactly: $0) } }
    self.init(
      model: model,
      pre: m["tokenizer.ggml.pre"]?.string,
      tokens: tokens,
      tokenTypes: m["tokenizer.ggml.token_type"]?.intArray?.map { Int32(truncatingIfNeeded: $0) } ?? [],
      merges: m["tokenizer.ggml.merges"]?.stringArray ?? [],
      scores: m["tokenizer.ggml.scores"]?.floatArray,
      bosID: id("tokenizer.ggml.bos_token_id"),
      eosID: id("tokenizer.ggml.eos_token_id"),
      unknownID: id("tokenizer.ggml.unknown_token_id"),
      paddingID: id("tokenizer.ggml.padding_token_id"),
      eotID: id("tokenizer.ggml.eot_token_id"),
      addBOS: m["tokenizer.ggml.add_bos_token"]?.bool ?? (model == "llama"),
      addEOS: m["tokenizer.ggml.add_eos_token"]?.bool ?? false,
      addSpacePrefix: m["tokenizer.ggml.add_space_prefix"]?.bool ?? true)
  }
}
