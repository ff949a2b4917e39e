import Kernels
import KernelsC
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

@Suite("half-accumulator attention, grouped heads")
struct HalfAttentionGroupTests {
  @Test("a group of heads equals one call per head, bit for bit", arguments: [(3, 64, 40, 16), (4, 256, 70, 16), (9, 64, 33, 7), (2, 300, 20, 16)])
  func grouped(_ count: Int, _ headDim: Int, _ positions: Int, _ blockSize: Int) {
    var rng = SplitMix64(seed: UInt64(count * 31 + headDim))
    let paged = AttentionKernelTests.make(positions: positions, blockSize: blockSize, kvHeads: 1, headDim: headDim, rng: &rng)
    let stride = headDim + 3
    let queries = rng.floats(count * stride, in: -3...3)
    var together = [Float](repeating: .nan, count: count * stride)
    var single = [Float](repeating: .nan, count: count * stride)
    paged.keys.withUnsafeBufferPointer { k in
      paged.values.withUnsafeBufferPointer { v in
        paged.table.withUnsafeBufferPointer { table in
          let view = PagedHeadView(
            keys: k.baseAddress!, values: v.baseAddress!, blockTable: table.baseAddress!, blockSize: blockSize,
            blockStride: blockSize * headDim, rowStride: headDim)
          queries.withUnsafeBufferPointer { q in
            together.withUnsafeMutableBufferPointer { o in
              attendHeads(
                queries: q.baseAddress!, queryStride: stride, count: count, kv: view, position: positions - 1,
                window: nil, headDim: headDim, scale: 0.1, halfAccumulator: true, out: o.baseAddress!, outStride: stride)
            }
            single.withUnsafeMutableBufferPointer { o in
              for h in 0..<count {
                attendHeadHalfReference(
                  query: q.baseAddress! + h * stride, kv: view, position: positions - 1, window: nil, headDim: headDim,
                  scale: 0.1, out: o.baseAddress! + h * stride)
              }
            }
          }
        }
      }
    }
    for h in 0..<count {
      let a = together[(h * stride)..<(h * stride + headDim)].map(\.bitPattern)
      let b = single[(h * stride)..<(h * stride + headDim)].map(\.bitPattern)
      #expect(a == b, "head \(h) of \(count), hd \(headDim)")
    }
  }
}

@Suite("half-accumulator attention at every SIMD level")
struct HalfAttentionLevelTests {
  /// The AVX-512 build works 16 lanes at a time where AVX2 works 8; every lane's operations are the
  /// same, so the outputs must be too (the twin tests above only reach the level this CPU prefers).
  @Test(
    "every level gives the same bits",
    arguments: [(3, 64, 300, 16), (6, 64, 40, 16), (3, 128, 50, 16), (1, 80, 45, 7), (9, 256, 70, 16), (2, 13, 20, 5)])
  func sameBitsAtEveryLevel(_ count: Int, _ headDim: Int, _ positions: Int, _ blockSize: Int) throws {
    try #require(SIMDKernelTests.levels.count >= 2, "this CPU runs one SIMD level: nothing to compare")
    var rng = SplitMix64(seed: UInt64(count * 71 + headDim * 3 + positions))
    let paged = AttentionKernelTests.make(positions: positions, blockSize: blockSize, kvHeads: 1, headDim: headDim, rng: &rng)
    let queries = rng.floats(count * headDim, in: -3...3)
    var outputs: [[UInt32]] = []
    for level in SIMDKernelTests.levels {
      for first in [0, positions / 2] {
        var out = [Float](repeating: .nan, count: count * headDim)
        let done = paged.keys.withUnsafeBufferPointer { k in
          paged.values.withUnsafeBufferPointer { v in
            k.withMemoryRebound(to: UInt16.self) { k16 in
              v.withMemoryRebound(to: UInt16.self) { v16 in
                pg_attend_heads_half_at(
                  level, queries, headDim, Int32(count), k16.baseAddress!, v16.baseAddress!, paged.table,
                  Int32(blockSize), blockSize * headDim, headDim, Int32(first), Int32(positions - 1), Int32(headDim),
                  0.125, &out, headDim)
              }
            }
          }
        }
        #expect(done == 1)
        outputs.append(out.map(\.bitPattern))
      }
    }
    // Two windows per level: compare each level with the first at the same window.
    for i in 2..<outputs.count {
      #expect(outputs[i] == outputs[i % 2], "level \(SIMDKernelTests.levels[i / 2]) differs from level 1")
    }
    #expect(outputs[0].contains { Float(bitPattern: $0) != 0 })
  }
}
