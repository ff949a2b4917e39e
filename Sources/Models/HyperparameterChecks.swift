import GGUF

/// What a model file's hyperparameters must satisfy before anything is sized from them. A file
/// that states a negative head count, a NaN epsilon or a four-billion-token context gets an error
/// naming the key (or, for the context, a cap and a warning) instead of a crash, a huge
/// allocation or silently useless output.
enum HyperparameterChecks {
  /// Upper bounds far above any released model, low enough that products of them cannot overflow.
  static let maxEmbedding = 1 << 16
  static let maxLayers = 1 << 10
  static let maxHeads = 1 << 10
  static let maxHeadSize = 1 << 12
  static let maxFeedForward = 1 << 20
  static let maxVocabulary = 1 << 22
  static let maxExperts = 1 << 10

  /// `value` must lie in 1...`max`.
  static func dimension(_ key: String, _ value: Int, max: Int) throws(ModelError) {
    guard value >= 1, value <= max else {
      throw .invalidHyperparameter("\(key) is \(value); it must be between 1 and \(max)")
    }
  }

  /// `value` must be a positive finite number (an epsilon, a RoPE base).
  static func positiveFinite(_ key: String, _ value: Float) throws(ModelError) {
    guard value.isFinite, value > 0 else {
      throw .invalidHyperparameter("\(key) is \(value); it must be a positive finite number")
    }
  }

  /// An optional key: nil when absent, an error when present but not an integer.
  static func optionalInt(_ m: GGUFMetadata, _ key: String) throws(ModelError) -> Int? {
    guard let value = m[key] else { return nil }
    guard let v = value.int else { throw .file(.wrongMetadataType(key: key, expected: "an integer")) }
    return v
  }

  /// An optional key: nil when absent, an error when present but not a number.
  static func optionalFloat(_ m: GGUFMetadata, _ key: String) throws(ModelError) -> Float? {
    guard let value = m[key] else { return nil }
    guard let v = value.float else { throw .file(.wrongMetadataType(key: key, expected: "a number")) }
    return v
  }

  /// An optional key: nil when absent, an error when present but not a string.
  static func optionalString(_ m: GGUFMetadata, _ key: String) throws(ModelError) -> String? {
    guard let value = m[key] else { return nil }
    guard let v = value.string else { throw .file(.wrongMetadataType(key: key, expected: "a string")) }
    return v
  }

  /// `<arch>.vocab_size`, when the file states it, must equal the embedding's rows.
  static func vocabulary(_ m: GGUFMetadata, arch: String, embeddingRows: Int) throws(ModelError) {
    try dimension("token_embd.weight rows", embeddingRows, max: maxVocabulary)
    if let stated = try optionalInt(m, arch + ".vocab_size"), stated != embeddingRows {
      throw .invalidHyperparameter(
        "\(arch).vocab_size is \(stated) but token_embd.weight has \(embeddingRows) rows")
    }
  }

  /// llama.cpp's `general.file_type` values (LLAMA_FTYPE_*, b11312, retired ones included): what
  /// the weights were quantized to.
  static let knownFileTypes: Set<Int> = Set(0...4).union(7...41).union([1024])

  /// `general.file_type`, when present, must be one llama.cpp defines.
  static func fileType(_ m: GGUFMetadata) throws(ModelError) {
    guard let type = try optionalInt(m, "general.file_type") else { return }
    guard knownFileTypes.contains(type) else {
      throw .invalidHyperparameter(
        "general.file_type \(type) is not a llama.cpp file type (0–4, 7–41, or 1024 for guessed)")
    }
  }

  /// The context a model may use: the file's, unless a KV cache of that many positions (f16 keys
  /// and values of every full-history layer) would not fit in half the memory available now; then
  /// as many as would, with a warning.
  static func context(
    _ contextLength: Int, key: String, layers: Int, kvDim: Int, availableBytes: Int = SystemMemory.availableBytes()
  ) -> (length: Int, warning: String?) {
    let perPosition = max(1, layers * kvDim * 2 * 2)
    // Positions are Int32 in block tables and batches.
    let fits = max(1, min(availableBytes / 2 / perPosition, Int(Int32.max)))
    guard contextLength > fits else { return (contextLength, nil) }
    let wanted = Double(contextLength) * Double(perPosition) / Double(1 << 30)
    let have = Double(availableBytes) / Double(1 << 30)
    return (
      fits,
      "\(key) \(contextLength) would need \(format(wanted)) GiB of KV cache and \(format(have)) GiB is available: "
        + "using a context of \(fits) tokens"
    )
  }

  private static func format(_ gib: Double) -> String {
    gib >= 100 ? String(Int(gib.rounded())) : String(Double(Int(gib * 10)) / 10)
  }
}
