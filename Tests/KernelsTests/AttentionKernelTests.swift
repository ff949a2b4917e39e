import Kernels
import TestSupport
import Testing

/// `attendHead` (streaming softmax over paged f16 blocks) against its two-pass Double twin.
@Suite("attendHead vs reference")
struct AttentionKernelTests {
  /// A shuffled block table over `blocks` physical blocks of `[blockSize, kvHeads, headDim]`.
  struct Paged {
    var keys: [Float16]
    var values: [Float16]
    var table: [Int32]

    /// Runs `body` with a view of one KV head of a single-head layout (`[blockSize, headDim]` blocks).
    func withView<R>(blockSize: Int, headDim: Int, _ body: (PagedHeadView) -> R) -> R {
      keys.withUnsafeBufferPointer { k in
        values.withUnsafeBufferPointer { v in
          table.withUnsafeBufferPointer { t in
            body(
              PagedHeadView(
                keys: k.baseAddress!, values: v.baseAddress!, blockTable: t.baseAddress!, blockSize: blockSize,
                blockStride: blockSize * headDim, rowStride: headDim))
          }
        }
      }
    }
  }

  static func make(positions: Int, blockSize: Int, kvHeads: Int, headDim: Int, rng: inout SplitMix64) -> Paged {
    let used = (positions + blockSize - 1) / blockSize
    let physical = used + 3
    var table = (0..<Int32(physical)).map { $0 }
    table.shuffle(using: &rng)
    let elements = physical * blockSize * kvHeads * headDim
    // Large-magnitude keys make scores spread widely, so the online maximum really moves.
    let keys = rng.floats(elements, in: -4...4).map { Float16($0) }
    let values = rng.floats(elements, in: -1...1).map { Float16($0) }
    return Paged(keys: keys, values: values, table: Array(table.prefix(used)))
  }

  @Test(
    "streaming attention matches the reference",
    arguments: [(1, 16, 64), (5, 16, 64), (16, 16, 64), (17, 16, 64), (300, 32, 64), (77, 7, 40), (130, 64, 13)])
  func matches(_ positions: Int, _ blockSize: Int, _ headDim: Int) {
    var rng = SplitMix64(seed: UInt64(positions * 1000 + blockSize * 10 + headDim))
    let kvHeads = 3
    let paged = Self.make(positions: positions, blockSize: blockSize, kvHeads: kvHeads, headDim: headDim, rng: &rng)
    let query = rng.floats(headDim, in: -1...1)
    for window in [nil, 1, 5, 100] as [Int?] {
      for kvHead in [0, 2] {
        var fast = [Float](repeating: .nan, count: headDim)
        var reference = [Float](repeating: .nan, count: headDim)
        paged.keys.withUnsafeBufferPointer { k in
          paged.values.withUnsafeBufferPointer { v in
            paged.table.withUnsafeBufferPointer { table in
              let view = PagedHeadView(
                keys: k.baseAddress! + kvHead * headDim, values: v.baseAddress! + kvHead * headDim,
                blockTable: table.baseAddress!, blockSize: blockSize, blockStride: blockSize * kvHeads * headDim,
                rowStride: kvHeads * headDim)
              query.withUnsafeBufferPointer { q in
                let scale: Float = 0.125
                attendHead(
                  query: q.baseAddress!, kv: view, position: positions - 1, window: window, headDim: headDim,
                  scale: scale, out: &fast)
                attendHeadReference(
                  query: q.baseAddress!, kv: view, position: positions - 1, window: window, headDim: headDim,
                  scale: scale, out: &reference)
              }
            }
          }
        }
        for i in 0..<headDim {
          #expect(
            abs(fast[i] - reference[i]) <= 2e-5 + 1e-4 * abs(reference[i]),
            "positions \(positions) block \(blockSize) hd \(headDim) window \(String(describing: window)) [\(i)]: \(fast[i]) vs \(reference[i])"
          )
        }
      }
    }
  }

  @Test("grouped heads equal one call per head", arguments: [(3, 64, 100, 16), (4, 40, 33, 8), (7, 256, 70, 32), (4, 256, 150, 16), (8, 128, 77, 32), (4, 64, 5, 4)])
  func grouped(_ group: Int, _ headDim: Int, _ positions: Int, _ blockSize: Int) {
    var rng = SplitMix64(seed: UInt64(group * 7 + headDim))
    let paged = Self.make(positions: positions, blockSize: blockSize, kvHeads: 1, headDim: headDim, rng: &rng)
    let queryStride = headDim + 5  // not packed: strides must be honoured
    let queries = rng.floats(group * queryStride, in: -1...1)
    var together = [Float](repeating: .nan, count: group * queryStride)
    var reference = [Float](repeating: .nan, count: group * headDim)
    paged.keys.withUnsafeBufferPointer { k in
      paged.values.withUnsafeBufferPointer { v in
        paged.table.withUnsafeBufferPointer { table in
          let view = PagedHeadView(
            keys: k.baseAddress!, values: v.baseAddress!, blockTable: table.baseAddress!, blockSize: blockSize,
            blockStride: blockSize * headDim, rowStride: headDim)
          queries.withUnsafeBufferPointer { q in
            together.withUnsafeMutableBufferPointer {
              attendHeads(
                queries: q.baseAddress!, queryStride: queryStride, count: group, kv: view, position: positions - 1,
                window: nil, headDim: headDim, scale: 0.1, out: $0.baseAddress!, outStride: queryStride)
            }
            reference.withUnsafeMutableBufferPointer { out in
              for h in 0..<group {
                attendHeadReference(
                  query: q.baseAddress! + h * queryStride, kv: view, position: positions - 1, window: nil,
                  headDim: headDim, scale: 0.1, out: out.baseAddress! + h * headDim)
              }
            }
          }
        }
      }
    }
    for h in 0..<group {
      for i in 0..<headDim {
        let r = reference[h * headDim + i]
        #expect(abs(together[h * queryStride + i] - r) <= 2e-5 + 1e-4 * abs(r), "head \(h) [\(i)]")
      }
      for i in headDim..<queryStride { #expect(together[h * queryStride + i].isNaN, "wrote past head \(h)") }
    }
  }

  @Test(
    "grouped heads are bit-identical to one attendHead per head (the AVX-512 tiles of up to four heads)",
    arguments: [
      (4, 256, 700, 16, 512), (8, 64, 130, 32, nil), (4, 128, 37, 16, 20),
      // Groups that leave a tile of 3, 2 or 1 heads (Llama 3.2 3B's 24/8, Qwen2.5 1.5B's 12/2, 7B's 28/4).
      (3, 128, 300, 16, nil), (6, 64, 90, 32, nil), (7, 128, 130, 16, 64), (1, 64, 40, 16, nil),
    ] as [(Int, Int, Int, Int, Int?)])
  func groupedBitIdentical(_ group: Int, _ headDim: Int, _ positions: Int, _ blockSize: Int, _ window: Int?) {
    var rng = SplitMix64(seed: UInt64(group * 131 + headDim + positions))
    let paged = Self.make(positions: positions, blockSize: blockSize, kvHeads: 1, headDim: headDim, rng: &rng)
    // Peaky scores (scale 1, |q| up to 2), where rounding differences would show.
    let queries = rng.floats(group * headDim, in: -2...2)
    paged.keys.withUnsafeBufferPointer { k in
      paged.values.withUnsafeBufferPointer { v in
        paged.table.withUnsafeBufferPointer { table in
          let view = PagedHeadView(
            keys: k.baseAddress!, values: v.baseAddress!, blockTable: table.baseAddress!, blockSize: blockSize,
            blockStride: blockSize * headDim, rowStride: headDim)
          for position in [0, 5, positions / 2, positions - 1] {
            var together = [Float](repeating: .nan, count: group * headDim)
            var single = [Float](repeating: .nan, count: group * headDim)
            queries.withUnsafeBufferPointer { q in
              together.withUnsafeMutableBufferPointer {
                attendHeads(
                  queries: q.baseAddress!, queryStride: headDim, count: group, kv: view, position: position,
                  window: window, headDim: headDim, scale: 1, out: $0.baseAddress!, outStride: headDim)
              }
              single.withUnsafeMutableBufferPointer { out in
                for h in 0..<group {
                  attendHead(
                    query: q.baseAddress! + h * headDim, kv: view, position: position, window: window,
                    headDim: headDim, scale: 1, out: out.baseAddress! + h * headDim)
                }
              }
            }
            #expect(
              together.map(\.bitPattern) == single.map(\.bitPattern),
              "group \(group) hd \(headDim) position \(position) window \(String(describing: window))")
          }
        }
      }
    }
  }

  @Test("a single position returns its value row exactly")
  func singlePosition() {
    // softmax over one score is exactly 1, so the output is the value row itself.
    var rng = SplitMix64(seed: 7)
    let paged = Self.make(positions: 40, blockSize: 8, kvHeads: 1, headDim: 24, rng: &rng)
    let query = rng.floats(24)
    var out = [Float](repeating: .nan, count: 24)
    paged.keys.withUnsafeBufferPointer { k in
      paged.values.withUnsafeBufferPointer { v in
        paged.table.withUnsafeBufferPointer { table in
          let view = PagedHeadView(
            keys: k.baseAddress!, values: v.baseAddress!, blockTable: table.baseAddress!, blockSize: 8,
            blockStride: 8 * 24, rowStride: 24)
          query.withUnsafeBufferPointer {
            attendHead(query: $0.baseAddress!, kv: view, position: 37, window: 1, headDim: 24, scale: 1, out: &out)
          }
          let row = v.baseAddress! + Int(table[37 / 8]) * 8 * 24 + (37 % 8) * 24
          for i in 0..<24 { #expect(out[i] == Float(row[i])) }
        }
      }
    }
  }
}
