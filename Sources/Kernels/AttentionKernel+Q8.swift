import Foundation
import KernelsC

/// The Q8_0 layout of a quantized KV row: every 32 values of a head are one block of an f16 scale
/// `d = max|x| / 127` and 32 int8 codes rounded to nearest, ggml's `block_q8_0` (34 bytes).
public enum KVQ8 {
  /// Values per block.
  public static let blockValues = 32
  /// Bytes per block: the f16 scale, then the codes.
  public static let blockBytes = 34

  /// Bytes of `count` values (a multiple of 32).
  @inline(__always) public static func rowBytes(_ count: Int) -> Int { count / blockValues * blockBytes }

  /// Quantizes `count` floats (a multiple of 32) into `rowBytes(count)` bytes at `dst`, through the
  /// SIMD quantizer when this CPU has one (bit-identical to `quantizeRowReference`).
  @inline(__always)
  public static func quantizeRow(_ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ count: Int) {
    quantizeActivationsFast(.q8_0, x, dst, count)
  }

  /// Reference twin of `quantizeRow`: per block the largest magnitude sets `d`, codes are `x / d`
  /// rounded to nearest-even (the shared activation quantizer's Q8_0 rule).
  public static func quantizeRowReference(_ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ count: Int) {
    quantizeActivations(.q8_0, x, dst, count)
  }

  /// Value `i` of a row at `row` (d · code, in f32).
  @inline(__always) public static func value(_ row: UnsafeRawPointer, _ i: Int) -> Float {
    let block = row + i / blockValues * blockBytes
    let d = Float(Float16(bitPattern: block.loadUnaligned(as: UInt16.self)))
    return d * Float(block.load(fromByteOffset: 2 + i % blockValues, as: Int8.self))
  }
}

/// Keys and values of one KV head stored as Q8_0 rows (`KVQ8`) in fixed-size blocks, found through
/// a block table, like `PagedHeadView` but with strides in bytes. Position `p` is row
/// `p % blockSize` of block `blockTable[p / blockSize]`; its row starts at
/// `base + block * blockStride + row * rowStride`. Point `keys`/`values` at the head's first Q8_0
/// block (add `kvHead * KVQ8.rowBytes(headDim)` for an interleaved `[blockSize, kvHeads, headDim]` block).
public struct PagedQ8HeadView {
  public var keys: UnsafeRawPointer
  public var values: UnsafeRawPointer
  public var blockTable: UnsafePointer<Int32>
  public var blockSize: Int
  /// Bytes between consecutive cache blocks.
  public var blockStride: Int
  /// Bytes between consecutive positions within a block.
  public var rowStride: Int

  public init(
    keys: UnsafeRawPointer, values: UnsafeRawPointer, blockTable: UnsafePointer<Int32>, blockSize: Int,
    blockStride: Int, rowStride: Int
  ) {
    self.keys = keys
    self.values = values
    self.blockTable = blockTable
    self.blockSize = blockSize
    self.blockStride = blockStride
    self.rowStride = rowStride
  }

  @inline(__always) func offset(_ p: Int) -> Int {
    Int(blockTable[p / blockSize]) * blockStride + (p % blockSize) * rowStride
  }
}

/// `attendHeads` over a Q8_0 KV head: `count` query heads (query `h` at `queries + h * queryStride`,
/// its output at `out + h * outStride`) attend to positions `max(0, position − window + 1)...position`.
/// Scores are `scale · q·dequant(k)` and the value sum is accumulated in f32 (no half-accumulator
/// variant: llama.cpp's f16 arithmetic is not defined for 8-bit rows). `headDim` must be a multiple
/// of 32. The SIMD kernel streams the positions with an online softmax; without a SIMD level each
/// head takes `attendHeadQ8Reference`.
@inline(__always)
public func attendHeadsQ8(
  queries: UnsafePointer<Float>, queryStride: Int, count: Int, kv: PagedQ8HeadView, position: Int, window: Int?,
  headDim: Int, scale: Float, out: UnsafeMutablePointer<Float>, outStride: Int
) {
  let first = window.map { max(0, position - $0 + 1) } ?? 0
  let done = pg_attend_heads_q8(
    queries, queryStride, Int32(count), kv.keys.assumingMemoryBound(to: UInt8.self),
    kv.values.assumingMemoryBound(to: UInt8.self), kv.blockTable, Int32(kv.blockSize), kv.blockStride, kv.rowStride,
    Int32(first), Int32(position), Int32(headDim), scale, out, outStride)
  if done != 0 { return }
  for h in 0..<count {
    attendHeadQ8Reference(
      query: queries + h * queryStride, kv: kv, position: position, window: window, headDim: headDim, scale: scale,
      out: out + h * outStride)
  }
}

/// Reference twin of `attendHeadsQ8` for one query head: keys and values dequantized element by
/// element, scores for every position first, a max-subtracted softmax in Double, then the weighted
/// sum of the values.
public func attendHeadQ8Reference(
  query: UnsafePointer<Float>, kv: PagedQ8HeadView, position: Int, window: Int?, headDim: Int, scale: Float,
  out: UnsafeMutablePointer<Float>
) {
  let first = window.map { max(0, position - $0 + 1) } ?? 0
  var scores = [Double](repeating: 0, count: position - first + 1)
  for p in first...position {
    let k = kv.keys + kv.offset(p)
    var s: Double = 0
    for i in 0..<headDim { s += Double(query[i]) * Double(KVQ8.value(k, i)) }
    scores[p - first] = s * Double(scale)
  }
  let maxScore = scores.max() ?? 0
  var sum: Double = 0
  for i in scores.indices {
    scores[i] = Foundation.exp(scores[i] - maxScore)
    sum += scores[i]
  }
  var acc = [Double](repeating: 0, count: headDim)
  for p in first...position {
    let v = kv.values + kv.offset(p)
    let w = scores[p - first] / sum
    for i in 0..<headDim { acc[i] += w * Double(KVQ8.value(v, i)) }
  }
  for i in 0..<headDim { out[i] = Float(acc[i]) }
}
