/// Identity of a full KV block: a hash chained over every token before it (so equal blocks after
/// different prefixes differ), its own tokens, an optional tenant salt and the arithmetic variant the
/// block was computed with (see `BatchSlice.fullPrecisionCount`). Two independent 64-bit
/// FNV-1a lanes make accidental collisions negligible; the pool also compares tokens.
public struct BlockHash: Hashable, Sendable {
  public var high: UInt64
  public var low: UInt64

  /// The hash of the block holding `tokens` after the block hashed `parent` (nil for the first).
  public init(parent: BlockHash?, tokens: ArraySlice<Int32>, salt: String? = nil, variant: Int = 0) {
    var a: UInt64 = 0xcbf2_9ce4_8422_2325
    var b: UInt64 = 0x8422_2325_cbf2_9ce4
    @inline(__always) func mix(_ v: UInt64) {
      a = (a ^ v) &* 0x0000_0100_0000_01b3
      b = (b ^ (v &+ 0x9e37_79b9_7f4a_7c15)) &* 0x0000_0100_0000_01b3
      b ^= b >> 29
    }
    if let parent {
      mix(parent.high)
      mix(parent.low)
    } else {
      mix(0x5eed)
    }
    if let salt { for byte in salt.utf8 { mix(UInt64(byte) | 0x1_0000_0000) } }
    if variant != 0 {
      // Variants may use all 64 bits (`BatchSlice.batchedOrderCode`): a marker word, then the value.
      mix(0x2_0000_0000)
      mix(UInt64(bitPattern: Int64(variant)))
    }
    for t in tokens { mix(UInt64(UInt32(bitPattern: t))) }
    high = a
    low = b
  }
}
