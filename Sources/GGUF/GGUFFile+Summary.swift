/// What a person wants to know of a model file at a glance (`peregrine list`, `show`).
extension GGUFFile {
  /// `general.architecture`, e.g. "llama".
  public var architecture: String? { metadata["general.architecture"]?.string }

  /// Weights in the file (every tensor's elements).
  public var parameterCount: Int { tensors.reduce(0) { $0 + $1.elementCount } }

  /// The quantization as llama.cpp names the file type (`general.file_type`: Q4_1, Q4_K_M, …), else
  /// the type holding most of the tensor bytes.
  public var quantizationName: String {
    if let code = metadata["general.file_type"]?.int, let name = Self.fileTypeNames[code] { return name }
    var bytes: [String: Int] = [:]
    for t in tensors { bytes[t.type.description, default: 0] += t.byteCount }
    return bytes.max { $0.value < $1.value }?.key.uppercased() ?? "?"
  }

  /// The context length the model was trained for (`<arch>.context_length`).
  public var trainedContextLength: Int? {
    architecture.flatMap { metadata["\($0).context_length"]?.int }
  }

  /// llama.cpp's `llama_ftype` codes and the names its tools print.
  static let fileTypeNames: [Int: String] = [
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
    12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS",
    20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M",
    28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4",
  ]
}
