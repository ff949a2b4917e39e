/// Everything a tokenizer needs, as plain data. The caller fills it from the GGUF
/// `tokenizer.ggml.*` metadata; the tokenizer never reads files itself.
public struct TokenizerVocabulary: Sendable {
  /// `tokenizer.ggml.model`: "gpt2" for byte-level BPE, "llama" for SentencePiece.
  public var model: String
  /// `tokenizer.ggml.pre`: selects the pre-tokenizer regex family ("smollm", "gpt2", …).
  public var pre: String?
  /// Token texts; for byte-level BPE these are in the GPT-2 byte-to-unicode encoding ("Ġworld").
  public var tokens: [String]
  /// One `TokenType` raw value per token
  /// (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte).
  public var tokenTypes: [Int32]
  /// BPE merges in rank order, each "left right" separated by one space.
  public var merges: [String]
  /// SentencePiece scores, one per token; unused by BPE.
  public var scores: [Float]?
  public var bosID: Int32?
  public var eosID: Int32?
  public var unknownID: Int32?
  public var paddingID: Int32?
  /// End-of-turn token, when the model has one distinct from EOS.
  public var eotID: Int32?
  /// End-of-message token (Llama 3.1's `<|eom_id|>`, after a tool call).
  public var eomID: Int32?
  /// Fill-in-the-middle pad, repository and file-separator tokens: llama.cpp ends generation
  /// at them (a code model that emits one has left the file it was writing).
  public var fimPadID: Int32?
  public var fimRepID: Int32?
  public var fimSepID: Int32?
  /// `general.name`: llama.cpp gives Phi-3's special tokens right-stripping by this name.
  public var modelName: String?
  /// Whether `encode(addSpecial: true)` prepends BOS.
  public var addBOS: Bool
  /// Whether `encode(addSpecial: true)` appends EOS.
  public var addEOS: Bool
  /// SentencePiece only (`tokenizer.ggml.add_space_prefix`, llama.cpp's default true): put a
  /// space before text at the start of the input and after each special token.
  public var addSpacePrefix: Bool

  public init(
    model: String,
    pre: String? = nil,
    tokens: [String],
    tokenTypes: [Int32] = [],
    merges: [String] = [],
    scores: [Float]? = nil,
    bosID: Int32? = nil,
    eosID: Int32? = nil,
    unknownID: Int32? = nil,
    paddingID: Int32? = nil,
    eotID: Int32? = nil,
    eomID: Int32? = nil,
    fimPadID: Int32? = nil,
    fimRepID: Int32? = nil,
    fimSepID: Int32? = nil,
    modelName: String? = nil,
    addBOS: Bool = false,
    addEOS: Bool = false,
    addSpacePrefix: Bool = true
  ) {
    self.model = model
    self.pre = pre
    self.tokens = tokens
    self.tokenTypes = tokenTypes
    self.merges = merges
    self.scores = scores
    self.bosID = bosID
    self.eosID = eosID
    self.unknownID = unknownID
    self.paddingID = paddingID
    self.eotID = eotID
    self.eomID = eomID
    self.fimPadID = fimPadID
    self.fimRepID = fimRepID
    self.fimSepID = fimSepID
    self.modelName = modelName
    self.addBOS = addBOS
    self.addEOS = addEOS
    self.addSpacePrefix = addSpacePrefix
  }
}
