/// llama.cpp's rules for special tokens that GGUF metadata does not spell out: which tokens end
/// generation, which texts are control tokens whatever type the file gives them, and which
/// special tokens swallow the whitespace after them. Token ids and the stopping behaviour depend
/// on these, so they follow llama.cpp's vocabulary loader.
struct SpecialTokenRules {
  /// Token types after the overrides below.
  private(set) var types: [TokenType]
  /// Every token that ends generation.
  private(set) var endOfGeneration = Set<Int32>()
  private(set) var eotID: Int32?
  private(set) var eomID: Int32?
  /// Special tokens after which the partition drops whitespace (Phi-3's `rstrip`).
  private(set) var rightStripped = Set<Int32>()

  /// Texts that make a token the end-of-turn token when the file names none.
  static let endOfTurnTexts = [
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>",
    "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
  ]
  /// Texts that end generation wherever they appear in a vocabulary.
  static let endOfGenerationTexts = [
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
    "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
    "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
  ]
  /// Fill-in-the-middle texts, found by text when the file gives no id; all become control
  /// tokens, and pad/repository/file-separator also end generation.
  static let fimPrefixTexts = [
    "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>",
    "<|prefix|>",
  ]
  static let fimSuffixTexts = [
    "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>",
    "<|suffix|>",
  ]
  static let fimMiddleTexts = [
    "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>",
    "<|middle|>",
  ]
  static let fimPadTexts = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"]
  static let fimRepoTexts = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"]
  static let fimSeparatorTexts = ["<|file_sep|>"]

  init(vocabulary v: TokenizerVocabulary, table: TokenTable, types: [TokenType]) {
    self.types = types
    func valid(_ id: Int32?) -> Int32? { id.flatMap { $0 >= 0 && Int($0) < types.count ? $0 : nil } }
    func text(_ id: Int32) -> String { v.tokens[Int(id)] }

    eotID = valid(v.eotID) ?? find(SpecialTokenRules.endOfTurnTexts, table)
    eomID = valid(v.eomID) ?? find(["<|eom_id|>"], table)
    for texts in [SpecialTokenRules.fimPrefixTexts, SpecialTokenRules.fimSuffixTexts, SpecialTokenRules.fimMiddleTexts] {
      _ = find(texts, table)
    }
    for (given, texts) in [
      (v.fimPadID, SpecialTokenRules.fimPadTexts), (v.fimRepID, SpecialTokenRules.fimRepoTexts),
      (v.fimSepID, SpecialTokenRules.fimSeparatorTexts),
    ] {
      if let id = valid(given) ?? find(texts, table) { endOfGeneration.insert(id) }
    }
    for t in SpecialTokenRules.endOfGenerationTexts {
      guard let id = table.id(t) else { continue }
      endOfGeneration.insert(id)
      makeControl(id)
    }
    // gpt-oss's channel markers are always rendered and always recognised.
    for t in ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"] {
      if let id = table.id(t) { self.types[Int(id)] = .userDefined }
    }
    for id in [valid(v.eosID), eotID, eomID] { if let id { endOfGeneration.insert(id) } }

    let eogTexts = Dictionary(endOfGeneration.map { (text($0), $0) }, uniquingKeysWith: max)
    // gpt-oss and Solar Open end a turn with <|return|>/<|call|> (or <|calls|>/<|flush|>); their
    // <|end|> only closes a message inside the turn.
    let hasCall = eogTexts["<|call|>"] != nil || eogTexts["<|calls|>"] != nil
    if let end = eogTexts["<|end|>"], hasCall && (eogTexts["<|return|>"] != nil || eogTexts["<|flush|>"] != nil) {
      endOfGeneration.remove(end)
      self.types[Int(end)] = .userDefined
    }
    // Gemma 4 and PLaMo have an ordinary </s>.
    if let s = eogTexts["</s>"], eogTexts["<|tool_response>"] != nil || eogTexts["<|plamo:eos|>"] != nil {
      endOfGeneration.remove(s)
      self.types[Int(s)] = .normal
    }

    if let name = v.modelName?.lowercased(), name.contains("phi-3") || name.contains("phi3") {
      for (i, type) in self.types.enumerated() where type == .control || type == .userDefined || type == .unknown {
        rightStripped.insert(Int32(i))
      }
      if let id = table.id("</s>") { rightStripped.insert(id) }
      for t in ["<unk>", "<s>", "<|endoftext|>"] {
        if let id = table.id(t) { rightStripped.remove(id) }
      }
    }
  }

  /// The token with the first of `texts` the vocabulary has, made a control token. (llama.cpp
  /// takes whichever its hash map yields first; on the vocabularies checked, that is the first
  /// in this order: `<|im_end|>` over `<|endoftext|>` for Qwen, `<|end|>` for Phi-3.)
  private mutating func find(_ texts: [String], _ table: TokenTable) -> Int32? {
    guard let id = texts.lazy.compactMap({ table.id($0) }).first else { return nil }
    makeControl(id)
    return id
  }

  private mutating func makeControl(_ id: Int32) {
    types[Int(id)] = .control
  }
}
