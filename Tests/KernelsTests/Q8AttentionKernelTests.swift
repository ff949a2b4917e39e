import Kernels
import KernelsC
import TestSupport
import Testing

/// Q8_0 KV rows: the row quantizer against its twin, and `attendHeadsQ8` (the SIMD kernel reading
/// Q8_0 keys/values through a block table) against its two-pass Double twin.
@Suite("Q8_0 KV cache kernels")
struct Q8AttentionKernelTests {
  /// A shuffled block table over `used + 3` physical blocks of `[blockSize, kvHeads, headDim]`
  /// values, each row quantized to Q8_0.
  struct Paged {
    var keys: [UInt8]
    var values: [UInt8]
    var table: [Int32]
    var rowBytes: Int
  }

  static func make(positions: Int, blockSize: Int, kvHeads: Int, headDim: Int, rng: inout SplitMix64) -> Paged {
    let used = (positions + blockSize - 1) / blockSize
    let physical = used + 3
    var table = (0..<Int32(physical)).map { $0 }
    table.shuffle(using: &rng)
    let kvDim = kvHeads * headDim
    let rowBytes = KVQ8.rowBytes(kvDim)
    let rows = physical * blockSize
    // Large-magnitude keys spread the scores, so the online maximum really moves; a per-row scale
    // gives the blocks different d.
    var keys = [UInt8](repeating: 0, count: rows * rowBytes)
    var values = [UInt8](repeating: 0, count: rows * rowBytes)
    for r in 0..<rows {
      let ks = rng.floats(kvDim, in: -4...4).map { $0 * Float.random(in: 0.1...1, using: &rng) }
      let vs = rng.floats(kvDim, in: -1...1)
      keys.withUnsafeMutableBytes { KVQ8.quantizeRowReference(ks, $0.baseAddress! + r * rowBytes, kvDim) }
      values.withUnsafeMutableBytes { KVQ8.quantizeRowReference(vs, $0.baseAddress! + r * rowBytes, kvDim) }
    }
    return Paged(keys: keys, values: values, table: Array(table.prefix(used)), rowBytes: rowBytes)
  }

  @Test("the SIMD row quantizer equals its twin byte for byte", arguments: [32, 64, 96, 192, 256, 800])
  func quantizerMatches(_ count: Int) {
    var rng = SplitMix64(seed: UInt64(count))
    var x = rng.floats(count, in: -3...3)
    for i in stride(from: 0, to: count, by: 97) { x[i] *= 50 }  // outliers set some blocks' scale
    if count >= 64 { for i in 32..<64 { x[i] = 0 } }  // an all-zero block: d = 0, codes 0
    var fast = [UInt8](repeating: 0xAA, count: KVQ8.rowBytes(count))
    var reference = [UInt8](repeating: 0x55, count: KVQ8.rowBytes(count))
    fast.withUnsafeMutableBytes { KVQ8.quantizeRow(x, $0.baseAddress!, count) }
    reference.withUnsafeMutableBytes { KVQ8.quantizeRowReference(x, $0.baseAddress!, count) }
    #expect(fast == reference)
    // Round to nearest: every value within half a step of its block's scale.
    reference.withUnsafeBytes { row in
      for i in 0..<count {
        let block = i / 32
        let amax = (block * 32..<block * 32 + 32).map { abs(x[$0]) }.max()!
        let d = amax / 127
        #expect(abs(KVQ8.value(row.baseAddress!, i) - x[i]) <= d * 0.5 + amax * 1e-3, "[\(i)]")
      }
    }
  }

  @Test(
    "Q8_0 streaming attention matches the reference",
    arguments: [
      (1, 16, 64, 3), (5, 16, 64, 1), (17, 16, 64, 3), (77, 7, 32, 5), (300, 32, 64, 3), (130, 16, 256, 4),
      (41, 5, 96, 2), (600, 16, 256, 4),
    ] as [(Int, Int, Int, Int)])
  func matches(_ positions: Int, _ blockSize: Int, _ headDim: Int, _ group: Int) {
    var rng = SplitMix64(seed: UInt64(positions * 1000 + blockSize * 10 + headDim + group))
    let kvHeads = 3
    let paged = Self.make(positions: positions, blockSize: blockSize, kvHeads: kvHeads, headDim: headDim, rng: &rng)
    let queryStride = headDim + 3  // not packed: strides must be honoured
    let queries = rng.floats(group * queryStride, in: -1...1)
    for window in [nil, 1, 5, 100, 512] as [Int?] {
      for kvHead in [0, kvHeads - 1] {
        for position in Set([0, positions / 2, positions - 1]) {
          var fast = [Float](repeating: .nan, count: group * queryStride)
          var reference = [Float](repeating: .nan, count: group * headDim)
          paged.keys.withUnsafeBytes { k in
            paged.values.withUnsafeBytes { v in
              paged.table.withUnsafeBufferPointer { table in
                let head = kvHead * KVQ8.rowBytes(headDim)
                let view = PagedQ8HeadView(
                  keys: k.baseAddress! + head, values: v.baseAddress! + head, blockTable: table.baseAddress!,
                  blockSize: blockSize, blockStride: blockSize * paged.rowBytes, rowStride: paged.rowBytes)
                queries.withUnsafeBufferPointer { q in
                  let scale: Float = 0.125
                  fast.withUnsafeMutableBufferPointer {
                    attendHeadsQ8(
                      queries: q.baseAddress!, queryStride: queryStride, count: group, kv: view, position: position,
                      window: window, headDim: headDim, scale: scale, out: $0.baseAddress!, outStride: queryStride)
                  }
                  reference.withUnsafeMutableBufferPointer { out in
                    for h in 0..<group {
                      attendHeadQ8Reference(
                        query: q.baseAddress! + h * queryStride, kv: view, position: position, window: window,
                        headDim: headDim, scale: scale, out: out.baseAddress! + h * headDim)
                    }
                  }
                }
              }
            }
          }
          for h in 0..<group {
            for i in 0..<headDim {
              let r = reference[h * headDim + i]
              let f = fast[h * queryStride + i]
              #expect(
                abs(f - r) <= 2e-5 + 1e-4 * abs(r),
                "positions \(positions) bs \(blockSize) hd \(headDim) window \(String(describing: window)) kv \(kvHead) p \(position) head \(h) [\(i)]: \(f) vs \(r)"
              )
            }
            for i in headDim..<queryStride { #expect(fast[h * queryStride + i].isNaN, "wrote past head \(h)") }
          }
        }
      }
    }
  }

  @Test("a single position returns its dequantized value row exactly")
  func singlePosition() {
    // softmax over one score is exactly 1 and d · code is exact in f32, so the output is the row.
    var rng = SplitMix64(seed: 11)
    let paged = Self.make(positions: 40, blockSize: 8, kvHeads: 1, headDim: 64, rng: &rng)
    let query = rng.floats(64)
    var out = [Float](repeating: .nan, count: 64)
    paged.keys.withUnsafeBytes { k in
      paged.values.withUnsafeBytes { v in
        paged.table.withUnsafeBufferPointer { table in
          let view = PagedQ8HeadView(
            keys: k.baseAddress!, values: v.baseAddress!, blockTable: table.baseAddress!, blockSize: 8,
            blockStride: 8 * paged.rowBytes, rowStride: paged.rowBytes)
          query.withUnsafeBufferPointer {
            attendHeadsQ8(
              queries: $0.baseAddress!, queryStride: 64, count: 1, kv: view, position: 37, window: 1, headDim: 64,
              scale: 1, out: &out, outStride: 64)
          }
          let row = v.baseAddress! + Int(table[37 / 8]) * 8 * paged.rowBytes + (37 % 8) * paged.rowBytes
          for i in 0..<64 { #expect(out[i] == KVQ8.value(row, i), "[\(i)]") }
        }
      }
    }
  }

  @Test("the SIMD kernel runs on this CPU and refuses head sizes that are not whole Q8_0 blocks")
  func kernelRunsAndRefusesBadHeads() {
    let rowBytes = KVQ8.rowBytes(64)
    let kv = [UInt8](repeating: 0, count: 4 * rowBytes)
    let table: [Int32] = [0]
    let q = [Float](repeating: 0.5, count: 64)
    var out = [Float](repeating: 0, count: 64)
    func call(_ headDim: Int) -> Int32 {
      pg_attend_heads_q8(q, 64, 1, kv, kv, table, 4, 4 * rowBytes, rowBytes, 0, 3, Int32(headDim), 1, &out, 64)
    }
    if pg_isa() >= 1 { #expect(call(64) == 1) }  // 1: AVX2
    #expect(call(48) == 0)
    #expect(call(0) == 0)
  }
}
