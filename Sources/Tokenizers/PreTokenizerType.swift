/// The pre-tokenizer families llama.cpp knows, by the splitting rules and BPE settings they imply.
/// Several `tokenizer.ggml.pre` names share one family (`names`).
public enum PreTokenizerType: String, Sendable, CaseIterable {
  /// What llama.cpp uses for `default` and for a BPE vocabulary without `tokenizer.ggml.pre`.
  case defaultRules = "default"
  case gpt2 = "gpt-2"
  case starCoder = "starcoder"
  case falcon
  case llama3 = "llama-bpe"
  /// Llama 3's splitting without its BPE settings.
  case dbrx
  case qwen2
  case qwen35
  case deepseekLLM = "deepseek-llm"
  case deepseekCoder = "deepseek-coder"
  case deepseekV3 = "deepseek-v3"
  case gpt4o = "gpt-4o"
  case tekken
  case bloom
  case viking
  case seedCoder = "seed-coder"
  case bailingMoE = "bailingmoe"
  case ufakzeka
  case laguna
  case exaoneMoE = "exaone-moe"
  case miniCPM5 = "minicpm5"
  case youtu
  case spark25 = "spark2_5"
  case graniteEmbedMulti = "granite-embed-multi-97m"

  /// The `tokenizer.ggml.pre` values that select this family, as in llama.cpp's loader.
  public var names: [String] {
    switch self {
    case .defaultRules: ["default"]
    case .gpt2:
      // "gpt2" is not a name llama.cpp accepts; Peregrine always has, for hand-made vocabularies.
      [
        "gpt-2", "gpt2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0",
        "mellum", "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "exaone4", "mpt", "olmo", "jais",
        "trillion", "granite-docling",
      ]
    case .starCoder: ["starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2"]
    case .falcon: ["falcon"]
    case .llama3: ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"]
    case .dbrx: ["dbrx", "smaug-bpe"]
    case .qwen2:
      ["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open", "grok-2"]
    case .qwen35: ["qwen35"]
    case .deepseekLLM: ["deepseek-llm"]
    case .deepseekCoder: ["deepseek-coder"]
    case .deepseekV3: ["deepseek-v3", "hunyuan-dense", "joyai-llm", "hy_v4"]
    case .gpt4o: ["gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"]
    case .tekken: ["tekken"]
    case .bloom: ["poro-chat", "bloom", "gpt3-finnish"]
    case .viking: ["viking"]
    case .seedCoder: ["seed-coder"]
    case .bailingMoE: ["bailingmoe", "bailingmoe2", "llada-moe"]
    case .ufakzeka: ["ufakzeka"]
    case .laguna: ["laguna"]
    case .exaoneMoE: ["exaone-moe"]
    case .miniCPM5: ["minicpm5"]
    case .youtu: ["youtu"]
    case .spark25: ["spark2_5"]
    case .graniteEmbedMulti: ["granite-embed-multi-97m"]
    }
  }

  /// llama.cpp's `ignore_merges`: a pre-tokenized word that is itself a vocabulary token is
  /// emitted whole, without running the merges (which might reach a different split).
  public var ignoresMerges: Bool {
    switch self {
    case .llama3, .tekken, .miniCPM5, .youtu, .graniteEmbedMulti: true
    default: false
    }
  }

  /// Whether BOS is added when the file has no `tokenizer.ggml.add_bos_token`.
  public var addsBOSByDefault: Bool {
    switch self {
    case .llama3, .tekken: true
    default: false
    }
  }

  /// The family a `tokenizer.ggml.pre` value selects; a missing value means `default`, as in
  /// llama.cpp.
  public init?(pre: String?) {
    guard let pre else {
      self = .defaultRules
      return
    }
    guard let type = PreTokenizerType.byName[pre] else { return nil }
    self = type
  }

  private static let byName: [String: PreTokenizerType] = {
    var table: [String: PreTokenizerType] = [:]
    for type in PreTokenizerType.allCases {
      for name in type.names { table[name] = type }
    }
    return table
  }()

  /// Every accepted `tokenizer.ggml.pre` value, sorted.
  public static var supportedNames: [String] { byName.keys.sorted() }

  /// The splitting steps, each applied to every chunk the previous one made. Where llama.cpp has
  /// a hand-written splitter for a regex (it picks one by exact pattern text), so does this; the
  /// rest run through `SplitRegex`.
  var rules: [SplitRule] {
    switch self {
    case .defaultRules:
      return [.regex(#"[\p{P}\$\+<=>\^~\|]+"#), .gpt2, .regex(#"\p{N}+"#), .regex("[0-9][0-9][0-9]")]
    case .gpt2: return [.gpt2]
    case .starCoder: return [.regex(#"\p{N}"#), .gpt2]
    case .falcon: return [.regex(#"[\p{P}\$\+<=>\^~\|`]+"#), .gpt2, .regex("[0-9][0-9][0-9]")]
    case .llama3, .dbrx: return [.llama3(digitRun: 3, marks: false)]
    case .qwen2: return [.llama3(digitRun: 1, marks: false)]
    case .qwen35: return [.llama3(digitRun: 1, marks: true)]
    case .deepseekLLM:
      return [
        .regex("[\r\n]"),
        .regex(
          "\\s?[A-Za-z\u{B5}\u{C0}-\u{D6}\u{D8}-\u{F6}\u{F8}-\u{1BA}\u{1BC}-\u{1BF}\u{1C4}-\u{293}\u{295}-\u{2AF}\u{370}-\u{373}\u{376}\u{377}\u{37B}-\u{37D}\u{37F}\u{386}\u{388}-\u{38A}\u{38C}\u{38E}-\u{3A1}\u{3A3}-\u{3F5}\u{3F7}-\u{481}\u{48A}-\u{52F}\u{531}-\u{556}\u{10A0}-\u{10C5}\u{13A0}-\u{13F5}\u{13F8}-\u{13FD}\u{1C90}-\u{1CBA}\u{1CBD}-\u{1CBF}\u{1D00}-\u{1D2B}\u{1D6B}-\u{1D77}\u{1D79}-\u{1D9A}\u{1E00}-\u{1F15}\u{1F18}-\u{1F1D}\u{1F20}-\u{1F45}\u{1F48}-\u{1F4D}\u{1F50}-\u{1F57}\u{1F59}\u{1F5B}\u{1F5D}\u{1F5F}-\u{1F7D}\u{1F80}-\u{1FB4}\u{1FB6}-\u{1FBC}\u{1FBE}\u{1FC2}-\u{1FC4}\u{1FC6}-\u{1FCC}\u{1FD0}-\u{1FD3}\u{1FD6}-\u{1FDB}\u{1FE0}-\u{1FEC}\u{1FF2}-\u{1FF4}\u{1FF6}-\u{1FFC}\u{2102}\u{2107}\u{210A}-\u{2113}\u{2115}\u{2119}-\u{211D}\u{2124}\u{2126}\u{2128}\u{212A}-\u{212D}\u{212F}-\u{2134}\u{2139}\u{213C}-\u{213F}\u{2145}-\u{2149}\u{214E}\u{2183}\u{2184}\u{2C00}-\u{2C7B}\u{2C7E}-\u{2CE4}\u{2CEB}-\u{2CEE}\u{2CF2}\u{2CF3}\u{A640}-\u{A66D}\u{A680}-\u{A69B}\u{A722}-\u{A76F}\u{A771}-\u{A787}\u{A78B}-\u{A78E}\u{AB70}-\u{ABBF}\u{FB00}-\u{FB06}\u{FB13}-\u{FB17}\u{FF21}-\u{FF3A}\u{FF41}-\u{FF5A}\u{10400}-\u{1044F}\u{104B0}-\u{104D3}\u{104D8}-\u{104FB}\u{10C80}-\u{10CB2}\u{10CC0}-\u{10CF2}\u{118A0}-\u{118DF}\u{1E900}-\u{1E943}]+"
        ),
        .regex("\\s?[!-/:-~\u{FF01}-\u{FF0F}\u{FF1A}-\u{FF5E}\u{2018}-\u{201F}\u{3000}-\u{3002}]+"),
        .regex(#"\s+$"#),
        .regex("[\u{4E00}-\u{9FA5}\u{800}-\u{4E00}\u{AC00}-\u{D7FF}]+"),
        .regex(#"\p{N}+"#),
      ]
    case .deepseekCoder:
      return [
        .regex("[\r\n]"), .regex(#"\s?\p{L}+"#), .regex(#"\s?\p{P}+"#), .regex("[\u{4E00}-\u{9FA5}\u{800}-\u{4E00}\u{AC00}-\u{D7FF}]+"),
        .regex(#"\p{N}"#),
      ]
    case .deepseekV3:
      return [
        .regex(#"\p{N}{1,3}"#), .regex("[\u{4E00}-\u{9FA5}\u{3040}-\u{309F}\u{30A0}-\u{30FF}]+"),
        .regex(
          ##"[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"##
        ),
      ]
    case .spark25:
      return [
        .regex(#"\p{N}{1,3}"#), .regex("[\u{4E00}-\u{9FA5}\u{3040}-\u{309F}\u{30A0}-\u{30FF}]+"),
        .regex(
          ##"[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+|[\r\n]|\s+(?!\S)|\s+"##
        ),
        .regex(#"\p{N}"#),
      ]
    case .gpt4o:
      return [
        .regex(
          #"[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        )
      ]
    case .graniteEmbedMulti:
      return [
        .regex(
          #"[^\r\n\p{L}\p{N}]?((?=[\p{L}\p{M}])([^a-z]))*((?=[\p{L}\p{M}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?((?=[\p{L}\p{M}])([^a-z]))+((?=[\p{L}\p{M}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        )
      ]
    case .tekken:
      return [
        .regex(
          #"[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        )
      ]
    case .bloom: return [.regex(" ?[^(\\s|.,!?\u{2026}\u{3002}\u{FF0C}\u{3001}\u{964}\u{6D4}\u{60C})]+")]
    case .viking: return [.regex(" ?[^(\\s|.,!?\u{2026}\u{3002}\u{FF0C}\u{3001}\u{964}\u{6D4}\u{60C})]+"), .regex(#"\p{N}"#)]
    case .seedCoder:
      return [
        .regex(
          #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+"#
        )
      ]
    case .bailingMoE:
      return [
        .regex(
          #"'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"#
        )
      ]
    case .ufakzeka:
      return [.regex(#"[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#)]
    case .laguna: return [.newlines, .llama3(digitRun: 1, marks: false)]
    case .exaoneMoE:
      return [
        .regex(
          #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+"#
        )
      ]
    case .miniCPM5:
      return [
        .regex(#"\p{N}{1,3}"#),
        .regex(
          #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        ),
      ]
    case .youtu:
      return [
        .regex("[\u{AC00}-\u{D7A3}\u{3131}-\u{318E}]+|[\u{FF01}\u{2026}\u{201C}\u{201D}\u{2018}\u{2019}\u{2014}\u{FF1A}\u{FF1B}\u{FF0C}\u{3001}-\u{303F}\u{FE30}-\u{FE4F}]+|[\u{3105}-\u{312F}]+|[\u{4E00}-\u{9FA5}\u{3040}-\u{309F}\u{30A0}-\u{30FF}]+"),
        .regex(
          #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        ),
      ]
    }
  }
}
