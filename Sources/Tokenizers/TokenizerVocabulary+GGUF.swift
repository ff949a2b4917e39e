import GGUF

extension TokenizerVocabulary {
  /// Reads the `tokenizer.ggml.*` metadata of a GGUF file.
  public init(metadata m: GGUFMetadata) throws(TokenizerError) {
    guard let model = m["tokenizer.ggml.model"]?.string else { throw .missingMetadata("tokenizer.ggml.model") }
    guard let tokens = m["tokenizer.ggml.tokens"]?.stringArray, !tokens.isEmpty else {
      throw .missingMetadata("tokenizer.ggml.tokens")
    }
    func id(_ key: String) -> Int32? { m[key]?.int.flatMap { Int32(exactly: $0) } }
    // llama.cpp's defaults when the file does not say: SentencePiece adds BOS, byte-level BPE
    // only for the pre-tokenizers that ask for it (Llama 3, Tekken).
    let pre = m["tokenizer.ggml.pre"]?.string
    let defaultBOS = model == "llama" || (model == "gpt2" && PreTokenizerType(pre: pre)?.addsBOSByDefault == true)
    self.init(
      model: model,
      pre: pre,
      tokens: tokens,
      tokenTypes: m["tokenizer.ggml.token_type"]?.intArray?.map { Int32(truncatingIfNeeded: $0) } ?? [],
      merges: m["tokenizer.ggml.merges"]?.stringArray ?? [],
      scores: m["tokenizer.ggml.scores"]?.floatArray,
      bosID: id("tokenizer.ggml.bos_token_id"),
      eosID: id("tokenizer.ggml.eos_token_id"),
      unknownID: id("tokenizer.ggml.unknown_token_id"),
      paddingID: id("tokenizer.ggml.padding_token_id"),
      eotID: id("tokenizer.ggml.eot_token_id"),
      eomID: id("tokenizer.ggml.eom_token_id"),
      fimPadID: id("tokenizer.ggml.fim_pad_token_id"),
      fimRepID: id("tokenizer.ggml.fim_rep_token_id"),
      fimSepID: id("tokenizer.ggml.fim_sep_token_id"),
      modelName: m["general.name"]?.string,
      addBOS: m["tokenizer.ggml.add_bos_token"]?.bool ?? defaultBOS,
      addEOS: m["tokenizer.ggml.add_eos_token"]?.bool ?? false,
      addSpacePrefix: m["tokenizer.ggml.add_space_prefix"]?.bool ?? true)
  }
}
