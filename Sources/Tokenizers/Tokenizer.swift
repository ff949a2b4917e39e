/// Text ↔ token ids for one model's vocabulary.
///
/// Built once from plain `TokenizerVocabulary` data and immutable afterwards, so one instance can
/// serve every request concurrently. Byte-level BPE (`model == "gpt2"`) is implemented; the
/// backend enum leaves room for SentencePiece.
public final class Tokenizer: Sendable {
  private enum Backend: Sendable {
    case bytePairEncoding(BPETokenizer)
  }

  /// Texts that end a turn; llama.cpp treats tokens with these texts as end-of-generation
  /// (and as control tokens) whatever type the vocabulary gives them.
  private static let endOfGenerationTexts: Set<String> = [
    "<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>", "<|eom_id|>",
  ]

  private let backend: Backend
  private let types: [TokenType]
  private let tokenIndex: [String: Int32]
  private let specials: SpecialTokenMatcher
  /// Every token's bytes back to back: decoded from the GPT-2 form for normal tokens, the
  /// literal text for control/user-defined/unknown ones. `pieceStarts` has one extra end entry.
  private let pieceBytes: [UInt8]
  private let pieceStarts: [Int32]
  private let endOfGeneration: Set<Int32>
  private let addBOS: Bool
  private let addEOS: Bool

  /// Beginning-of-sequence token, if the model has one.
  public let bosID: Int32?
  /// End-of-sequence token, if the model has one.
  public let eosID: Int32?
  /// End-of-turn token, if the vocabulary names one.
  public let eotID: Int32?

  /// Number of token ids, i.e. the logits width the vocabulary implies.
  public var vocabularySize: Int { types.count }

  public init(vocabulary v: TokenizerVocabulary) throws(TokenizerError) {
    guard v.model == "gpt2" else { throw .unsupportedModel(v.model) }
    guard !v.tokens.isEmpty else { throw .emptyVocabulary }
    guard v.tokenTypes.isEmpty || v.tokenTypes.count == v.tokens.count else {
      throw .tokenTypeCountMismatch(tokens: v.tokens.count, types: v.tokenTypes.count)
    }
    for (name, id) in [("BOS", v.bosID), ("EOS", v.eosID), ("EOT", v.eotID)] {
      if let id, id < 0 || Int(id) >= v.tokens.count {
        throw .specialTokenOutOfRange(name: name, id: id)
      }
    }

    var index: [String: Int32] = [:]
    index.reserveCapacity(v.tokens.count)
    // Later duplicates win, as in llama.cpp's token_to_id map.
    for (i, t) in v.tokens.enumerated() { index[t] = Int32(i) }

    var types = v.tokens.indices.map { i in
      i < v.tokenTypes.count ? TokenType(rawValue: v.tokenTypes[i]) ?? .normal : .normal
    }
    var eog = Set<Int32>()
    for id in [v.eosID, v.eotID] { if let id { eog.insert(id) } }
    for text in Tokenizer.endOfGenerationTexts {
      if let id = index[text] {
        eog.insert(id)
        types[Int(id)] = .control
      }
    }

    var bytes: [UInt8] = []
    var starts: [Int32] = []
    starts.reserveCapacity(v.tokens.count + 1)
    for (i, text) in v.tokens.enumerated() {
      starts.append(Int32(bytes.count))
      switch types[i] {
      case .normal, .undefined:
        bytes.append(contentsOf: ByteUnicodeMap.decode(text))
      case .byte:
        if let b = Tokenizer.parseByteToken(text) {
          bytes.append(b)
        } else {
          bytes.append(contentsOf: ByteUnicodeMap.decode(text))
        }
      case .control, .userDefined, .unknown:
        bytes.append(contentsOf: text.utf8)
      case .unused:
        break
      }
    }
    starts.append(Int32(bytes.count))

    self.backend = .bytePairEncoding(try BPETokenizer(vocabulary: v, tokenIndex: index))
    self.types = types
    self.tokenIndex = index
    self.specials = SpecialTokenMatcher(tokens: v.tokens, types: types)
    self.pieceBytes = bytes
    self.pieceStarts = starts
    self.endOfGeneration = eog
    self.addBOS = v.addBOS
    self.addEOS = v.addEOS
    self.bosID = v.bosID
    self.eosID = v.eosID
    self.eotID = v.eotID
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
    var workspace = BPEWorkspace()
    for fragment in specials.partition(utf8, parseSpecial: parseSpecial) {
      switch fragment {
      case .token(let id):
        output.append(id)
      case .text(let range):
        switch backend {
        case .bytePairEncoding(let bpe):
          bpe.encode(utf8[range], into: &output, workspace: &workspace)
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

  /// Concatenated pieces of `ids` as text; invalid UTF-8 becomes U+FFFD.
  public func decode(_ ids: [Int32], special: Bool) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(ids.count * 4)
    for id in ids { bytes.append(contentsOf: pieceSlice(id, special: special)) }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Whether generating `id` should stop the sequence: EOS, EOT, or an end-of-turn token.
  public func isEndOfGeneration(_ id: Int32) -> Bool {
    endOfGeneration.contains(id)
  }

  /// The id of the token whose vocabulary text is exactly `text` (in the vocabulary's own
  /// encoding, e.g. "Ġworld"), if any.
  public func tokenID(_ text: String) -> Int32? {
    tokenIndex[text]
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

  /// SentencePiece-style byte tokens are spelled `<0xAB>`.
  private static func parseByteToken(_ text: String) -> UInt8? {
    let u = Array(text.utf8)
    guard u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E else { return nil }
    return UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16)
  }
}
