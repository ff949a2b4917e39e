/// Tensor element types as numbered by ggml, with the block layout each one uses on disk.
///
/// Quantized types store `blockSize` elements in `typeSize` bytes; a row's first dimension must be a
/// multiple of `blockSize`.
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
  case f32 = 0
  case f16 = 1
  case q4_0 = 2
  case q4_1 = 3
  case q5_0 = 6
  case q5_1 = 7
  case q8_0 = 8
  case q8_1 = 9
  case q2_K = 10
  case q3_K = 11
  case q4_K = 12
  case q5_K = 13
  case q6_K = 14
  case q8_K = 15
  case iq4_nl = 20
  case i8 = 24
  case i16 = 25
  case i32 = 26
  case i64 = 27
  case f64 = 28
  case bf16 = 30

  /// Elements per block.
  public var blockSize: Int {
    switch self {
    case .f32, .f16, .bf16, .i8, .i16, .i32, .i64, .f64: return 1
    case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1, .iq4_nl: return 32
    case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K: return 256
    }
  }

  /// Bytes per block.
  public var typeSize: Int {
    switch self {
    case .f32, .i32: return 4
    case .f16, .bf16, .i16: return 2
    case .i8: return 1
    case .i64, .f64: return 8
    case .q4_0, .iq4_nl: return 18
    case .q4_1: return 20
    case .q5_0: return 22
    case .q5_1: return 24
    case .q8_0: return 34
    case .q8_1: return 36
    case .q2_K: return 84
    case .q3_K: return 110
    case .q4_K: return 144
    case .q5_K: return 176
    case .q6_K: return 210
    case .q8_K: return 292
    }
  }

  /// The name ggml and llama.cpp print, e.g. `Q4_1`.
  public var description: String {
    switch self {
    case .f32: "F32"
    case .f16: "F16"
    case .bf16: "BF16"
    case .q4_0: "Q4_0"
    case .q4_1: "Q4_1"
    case .q5_0: "Q5_0"
    case .q5_1: "Q5_1"
    case .q8_0: "Q8_0"
    case .q8_1: "Q8_1"
    case .q2_K: "Q2_K"
    case .q3_K: "Q3_K"
    case .q4_K: "Q4_K"
    case .q5_K: "Q5_K"
    case .q6_K: "Q6_K"
    case .q8_K: "Q8_K"
    case .iq4_nl: "IQ4_NL"
    case .i8: "I8"
    case .i16: "I16"
    case .i32: "I32"
    case .i64: "I64"
    case .f64: "F64"
    }
  }

  /// Parses a name such as `q8_0` or `F16` (case-insensitive).
  public init?(name: String) {
    guard let match = GGMLType.allCases.first(where: { $0.description.lowercased() == name.lowercased() })
    else { return nil }
    self = match
  }

  /// Bytes needed for one row of `count` elements, or nil if `count` is not a whole number of blocks.
  public func rowBytes(_ count: Int) -> Int? {
    guard count >= 0, count % blockSize == 0 else { return nil }
    return (count / blockSize) * typeSize
  }
}
