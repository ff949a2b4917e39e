import GGUF

/// Which activation rows of a product take llama.cpp's batched float order (`PG_BATCHED`), by weight
/// type: its repacked Q4_K kernel and its tiled Q5_K / Q6_K kernel batch rows by different rules
/// (`BatchSlice.referenceBatched`). Other types, and `Numerics.fast`, ignore it.
public struct BatchedOrderRows {
  public var q4K: UnsafePointer<Bool>  // [n]
  public var q5KQ6K: UnsafePointer<Bool>  // [n]

  public init(q4K: UnsafePointer<Bool>, q5KQ6K: UnsafePointer<Bool>) {
    self.q4K = q4K
    self.q5KQ6K = q5KQ6K
  }

  /// The rows for weights of `type`, or nil when the type has one order for any batch.
  @inline(__always) func rows(for type: GGMLType) -> UnsafePointer<Bool>? {
    switch type {
    case .q4_K: q4K
    case .q5_K, .q6_K: q5KQ6K
    default: nil
    }
  }
}
