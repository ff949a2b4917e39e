import Kernels

/// How a `PagedKVCache` stores keys and values.
public enum KVCacheType: String, Sendable, Equatable, CaseIterable, Codable {
  /// Float16 per value (2 bytes), llama.cpp's default; attention can follow llama.cpp's arithmetic
  /// bit for bit (`Numerics.exact`).
  case f16
  /// ggml's Q8_0 along each head's dimension: per 32 values an f16 scale and 32 int8 codes (34
  /// bytes instead of 64), so a budget holds ~1.88× the positions. Attention is f32 at every position.
  case q8_0 = "q8_0"

  /// Bytes of one position's keys (or values) of one layer: `kvDim` values.
  public func rowBytes(kvDim: Int) -> Int {
    switch self {
    case .f16: MemoryLayout<Float16>.stride * kvDim
    case .q8_0: KVQ8.rowBytes(kvDim)
    }
  }

  /// Why a model with heads of `headDim` values cannot use this type, or nil when it can (Q8_0 blocks
  /// must not straddle two heads).
  public func unsupportedReason(headDim: Int) -> String? {
    switch self {
    case .f16: return nil
    case .q8_0:
      guard headDim > 0, headDim % KVQ8.blockValues == 0 else {
        return "a q8_0 KV cache needs a head dimension that is a multiple of \(KVQ8.blockValues); this model's is \(headDim)"
      }
      return nil
    }
  }
}
