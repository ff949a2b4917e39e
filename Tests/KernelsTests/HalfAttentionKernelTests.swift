import Kernels
import TestSupport
import Testing

/// `attendHead(halfAccumulator: true)` (llama.cpp's flash-attention arithmetic) against its scalar
/// twin, bit for bit, and against the f64 reference within f16 accuracy (so it is attention at all).
@Suite("half-accumulator attention")
struct HalfAttentionKernelTests {
  @Test(
    "SIMD kernel equals its scalar twin exactly",
    arguments: [(1, 16, 64), (12, 16, 64), (33, 16, 64), (300, 32, 64), (70, 16, 256), (45, 7, 80), (20, 5, 13)])
  func exact(_ positions: Int, _ blockSize: Int, _ headDim: Int) {
    var rng = SplitMix64(seed: UInt64(positions * 997 + blockSize * 13 + headDim))
    let kvHeads = 2
    let paged = AttentionKernelTests.make(
      positions: positions, blockSize: blockSize, kvHeads: kvHeads, headDim: headDim, rng: &rng)
    // A spread of magnitudes so the running maximum moves many times and f16 rounding is exercised.
    let query = rng.floats(headDim, in: -3...3)
    for window in [nil, 4] as [Int?] {
      var fast = [Float](repeating: .nan, count: headDim)
      var twin = [Float](repeating: .nan, count: headDim)
      var exact = [Float](repeating: .nan, count: headDim)
      paged.keys.withUnsafeBufferPointer { k in
        paged.values.withUnsafeBufferPointer { v in
          paged.table.withUnsafeBufferPointer { table in
            let view = PagedHeadView(
              keys: k.baseAddress! + headDim, values: v.baseAddress! + headDim, blockTable: table.baseAddress!,
              blockSize: blockSize, blockStride: blockSize * kvHeads * headDim, rowStride: kvHeads * headDim)
            query.withUnsafeBufferPointer { q in
              attendHead(
                query: q.baseAddress!, kv: view, position: positions - 1, window: window, headDim: headDim,
                scale: 0.125, halfAccumulator: true, out: &fast)
              attendHeadHalfReference(
                query: q.baseAddress!, kv: view, position: positions - 1, window: window, headDim: headDim,
                scale: 0.125, out: &twin)
              attendHeadReference(
                query: q.baseAddress!, kv: view, position: positions - 1, window: window, headDim: headDim,
                scale: 0.125, out: &exact)
            }
          }
        }
      }
      let label = "positions \(positions) block \(blockSize) hd \(headDim) window \(String(describing: window))"
      #expect(fast.map(\.bitPattern) == twin.map(\.bitPattern), "\(label)")
      for i in 0..<headDim {
        #expect(abs(twin[i] - exact[i]) <= 4e-3 + 4e-3 * abs(exact[i]), "\(label) [\(i)]: \(twin[i]) vs \(exact[i])")
      }
    }
  }
}
