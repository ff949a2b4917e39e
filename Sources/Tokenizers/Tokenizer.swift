/// Text ↔ token ids for one model's vocabulary.
///
/// Built once from plain `TokenizerVocabulary` data and immutable afterwards, so one instance can
/// serve every request concurrently. Two backends, chosen by `tokenizer.ggml.model`: byte-level
/// BPE (`gpt2`) and SentencePiece (`llama`).
public final class Tokenizer: Sendable {
  private enum Backend: Sendable {
    case bytePairEncoding(BPETokenizer)
    case sentencePiece(SentencePieceTokenizer)
  }

  private let backend: Backend
  private let types: [TokenType]
  /// Vocabulary text → id, for `tokenID(_:)` and the SentencePiece merges.
  private let tokenTable: TokenTable
  private let specials: SpecialTokenMatcher
  /// Every token's decoded bytes back to back (see `Tokenizer+Pieces.swift`); `pieceStarts` has one extra
  /// end entry.
  private let pieceBytes: [UInt8]
  private let pieceStarts: [Int32]
  private let endOfGeneration: Set<Int32>
  private let addBOS: Bool
  private let addEOS: Bool

  /// Beginning-of-sequence token, if the model has one.
  public let bosID: Int32?
  /// End-of-sequence token, if the model has one.
  public let eosID: Int32?
  /// End-of-turn token: the file's, else the token llama.cpp recognises by its text
  /// (`<|eot_id|>`, `<|im_end|>`, …).
  public let eotID: Int32?
  /// End-of-message token (`<|eom_id|>`), from the file or by text.
  public let eomID: Int32?
  /// Every token that ends generation, ascending: EOS, EOT, EOM, the fill-in-the-middle
  /// pad/repository/separator tokens, and every token whose text llama.cpp treats as an end of
  /// turn (`<|im_end|>`, `<|eot_id|>`, `<|endoftext|>`, `<|end|>`, `<end_of_turn>`, `</s>` …).
  public let endOfGenerationIDs: [Int32]
  /// Whether `encode(addSpecial: true)` prepends BOS.
  public var addsBOS: Bool { addBOS && bosID != nil }

  /// Number of token ids, i.e. the logits width the vocabulary implies.
  public var vocabularySize: Int { types.count }

  public init(vocabulary v: TokenizerVocabulary) throws(TokenizerError) {
    guard v.model == "gpt2" || v.model == "llama" else { throw .unsupportedModel(v.model) }
    guard !v.tokens.isEmpty else { throw .emptyVocabulary }
    guard v.tokenTypes.isEmpty || v.tokenTypes.count == v.tokens.count else {
      throw .tokenTypeCountMismatch(tokens: v.tokens.count, types: v.tokenTypes.count)
    }
    if let scores = v.scores, scores.count != v.tokens.count {
      throw .scoreCountMismatch(tokens: v.tokens.count, scores: scores.count)
    }
    for (name, id) in [("BOS", v.bosID), ("EOS", v.eosID), ("EOT", v.eotID), ("UNK", v.unknownID), ("PAD", v.paddingID)] {
      if let id, id < 0 || Int(id) >= v.tokens.count {
        throw .specialTokenOutOfRange(name: name, id: id)
      }
    }

    let table = TokenTable(tokens: v.tokens)
    var fileTypes = [TokenType](repeating: .normal, count: v.tokens.count)
    for (i, raw) in v.tokenTypes.enumerated() { fileTypes[i] = TokenType(rawValue: raw) ?? .undefined }
    let rules = SpecialTokenRules(vocabulary: v, table: table, types: fileTypes)
    let types = rules.types

    switch v.model {
    case "llama":
      self.backend = .sentencePiece(SentencePieceTokenizer(vocabulary: v, table: table))
      (self.pieceBytes, self.pieceStarts) = Tokenizer.sentencePiecePieces(table: table, types: types)
    default:
      var index: [String: Int32] = [:]
      index.reserveCapacity(v.tokens.count)
      // Later duplicates win, as in llama.cpp's token_to_id map.
      for (i, t) in v.tokens.enumerated() { index[t] = Int32(i) }
      self.backend = .bytePairEncoding(try BPETokenizer(vocabulary: v, tokenIndex: index, table: table))
      (self.pieceBytes, self.pieceStarts) = Tokenizer.bytePairPieces(tokens: v.tokens, types: types)
    }
    self.types = types
    self.tokenTable = table
    self.specials = SpecialTokenMatcher(tokens: v.tokens, types: types, rightStripped: rules.rightStripped)
    self.endOfGeneration = rules.endOfGeneration
    self.endOfGenerationIDs = rules.endOfGeneration.sorted()
    self.addBOS = v.addBOS
    self.addEOS = v.addEOS
    self.bosID = v.bosID
    self.eosID = v.eosID
    self.eotID = rules.eotID
    self.eomID = rules.eomID
  }

  /// Token ids for `text`.
  /// - Parameters:
  ///   - addSpecial: add BOS/EOS as the vocabulary's `addBOS`/`addEOS` say.
  ///   - parseSpecial: recognise control-token text (e.g. `<|im_start|>`) in `text`; when false
  ///     such text is tokenized literally. User-defined tokens are recognised either way.
  public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32] {
    var output: [Int32] = []
    if addSpecial, addBOS, let bosID { output.append(bosID) }
    let utf8 = Array(text.utf8)
    let fragments = specials.partition(utf8, parseSpecial: parseSpecial)
    switch backend {
    case .bytePairEncoding(let bpe):
      var workspace = BPEWorkspace()
      for fragment in fragments {
        switch fragment {
        case .token(let id): output.append(id)
        case .text(let range): bpe.encode(utf8[range], into: &output, workspace: &workspace)
        }
      }
    case .sentencePiece(let spm):
      var workspace = SentencePieceWorkspace()
      // The start of the input counts as following a special token, BOS or not.
      var afterSpecial = true
      for fragment in fragments {
        switch fragment {
        case .token(let id):
          output.append(id)
          afterSpecial = true
        case .text(let range):
          spm.encode(
            utf8[range], prefixSpace: spm.addSpacePrefix && afterSpecial, into: &output,
            workspace: &workspace)
          afterSpecial = false
        }
      }
    }
    if addSpecial, addEOS, let eosID { output.append(eosID) }
    return output
  }

  /// Raw bytes of one token. Control and unknown tokens give their text only when `special` is
  /// true; out-of-range ids and unused tokens give nothing. A piece may be part of a UTF-8
  /// character, which is why this returns bytes and not a `String`.
  public func piece(_ id: Int32, special: Bool) -> [UInt8] {
    Array(pieceSlice(id, special: special))
  }

  /// Concatenated pieces of `ids` as text; invalid UTF-8 becomes U+FFFD. This is what
  /// llama-server's `/detokenize` returns. Unlike `llama_detokenize`, no leading space is
  /// removed for SentencePiece models with `addSpacePrefix` (Gemma has it off, so the two agree).
  public func decode(_ ids: [Int32], special: Bool) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(ids.count * 4)
    for id in ids { bytes.append(contentsOf: pieceSlice(id, special: special)) }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Whether generating `id` should stop the sequence (see `endOfGenerationIDs`).
  public func isEndOfGeneration(_ id: Int32) -> Bool {
    endOfGeneration.contains(id)
  }

  /// The id of the token whose vocabulary text is exactly `text` (in the vocabulary's own
  /// encoding, e.g. "Ġworld" or "▁world"), if any.
  public func tokenID(_ text: String) -> Int32? {
    tokenTable.id(text)
  }

  /// The token's type; `.undefined` for out-of-range ids.
  public func tokenType(_ id: Int32) -> TokenType {
    id >= 0 && Int(id) < types.count ? types[Int(id)] : .undefined
  }

  func pieceSlice(_ id: Int32, special: Bool) -> ArraySlice<UInt8> {
    guard id >= 0, Int(id) < types.count else { return [] }
    switch types[Int(id)] {
    case .control, .unknown:
      if !special { return [] }
    default:
      break
    }
    return pieceBytes[Int(pieceStarts[Int(id)])..<Int(pieceStarts[Int(id) + 1])]
  }
}
