import Foundation
import Kernels
import KernelsC
import TestSupport
import Testing

/// `attendRows` (prompt attention over tiles of query rows) against its scalar twin bit for bit, at
/// every SIMD level, and against the f64 reference within f32 accuracy (so it is attention at all).
@Suite("tiled prompt attention")
struct RowAttentionKernelTests {
  /// One tile's outputs at `level` (nil: `attendRows`, which falls back to the twin without SIMD), as
  /// `[token][head][headDim]` with strides that are not packed.
  static func tile(
    level: Int32?, paged: AttentionKernelTests.Paged, queries: [Float], tokens: Int, heads: Int, headDim: Int,
    blockSize: Int, last: Int, window: Int?
  ) -> [Float] {
    let headStride = headDim + 3
    let tokenStride = heads * headStride + 5
    var out = [Float](repeating: .nan, count: tokens * tokenStride)
    paged.keys.withUnsafeBufferPointer { k in
      paged.values.withUnsafeBufferPointer { v in
        paged.table.withUnsafeBufferPointer { table in
          queries.withUnsafeBufferPointer { q in
            out.withUnsafeMutableBufferPointer { o in
              if let level {
                let done = k.withMemoryRebound(to: UInt16.self) { k16 in
                  v.withMemoryRebound(to: UInt16.self) { v16 in
                    pg_attend_rows_at(
                      level, q.baseAddress!, tokenStride, headStride, Int32(tokens), Int32(heads), k16.baseAddress!,
                      v16.baseAddress!, table.baseAddress!, Int32(blockSize), blockSize * headDim, headDim, Int32(last),
                      Int32(window ?? 0), Int32(headDim), 0.125, o.baseAddress!, tokenStride, headStride)
                  }
                }
                #expect(done == 1, "level \(level) refused the tile")
              } else {
                let view = PagedHeadView(
                  keys: k.baseAddress!, values: v.baseAddress!, blockTable: table.baseAddress!, blockSize: blockSize,
                  blockStride: blockSize * headDim, rowStride: headDim)  // as Paged.withView
                attendRows(
                  queries: q.baseAddress!, tokenStride: tokenStride, headStride: headStride, tokens: tokens,
                  heads: heads, kv: view, lastPosition: last, window: window, headDim: headDim, scale: 0.125,
                  out: o.baseAddress!, outTokenStride: tokenStride, outHeadStride: headStride)
              }
            }
          }
        }
      }
    }
    return out
  }

  /// Rows of a tile, as [token][head] arrays of `headDim` floats.
  static func rows(_ out: [Float], tokens: Int, heads: Int, headDim: Int) -> [[Float]] {
    let headStride = headDim + 3
    let tokenStride = heads * headStride + 5
    return (0..<tokens).flatMap { t in
      (0..<heads).map { h in Array(out[(t * tokenStride + h * headStride)..<(t * tokenStride + h * headStride + headDim)]) }
    }
  }

  @Test(
    "every row equals its scalar twin bit for bit, at every SIMD level",
    arguments: [
      // (tokens, heads, headDim, blockSize, last position of token 0)
      (4, 8, 64, 16, 200), (1, 8, 64, 16, 0), (3, 8, 64, 16, 30), (10, 3, 128, 16, 300), (4, 7, 128, 16, 77),
      (8, 4, 256, 16, 90), (32, 1, 64, 32, 5), (2, 5, 40, 7, 61), (1, 1, 16, 4, 3),
    ] as [(Int, Int, Int, Int, Int)])
  func twin(_ tokens: Int, _ heads: Int, _ headDim: Int, _ blockSize: Int, _ last: Int) throws {
    var rng = SplitMix64(seed: UInt64(tokens * 7919 + heads * 131 + headDim + last))
    let positions = last + tokens
    let paged = AttentionKernelTests.make(
      positions: positions, blockSize: blockSize, kvHeads: 1, headDim: headDim, rng: &rng)
    let headStride = headDim + 3
    let tokenStride = heads * headStride + 5
    // Peaky scores (|q| up to 3 against keys up to 4) so the running maximum moves and rounding shows.
    let queries = rng.floats(tokens * tokenStride, in: -3...3)
    for window in [nil, 1, 20] as [Int?] {
      var twin: [[Float]] = []
      paged.withView(blockSize: blockSize, headDim: headDim) { view in
        queries.withUnsafeBufferPointer { q in
          for t in 0..<tokens {
            for h in 0..<heads {
              var row = [Float](repeating: .nan, count: headDim)
              var exact = [Float](repeating: .nan, count: headDim)
              let query = q.baseAddress! + t * tokenStride + h * headStride
              attendRowReference(
                query: query, kv: view, position: last + t, window: window, headDim: headDim, scale: 0.125, out: &row)
              attendHeadReference(
                query: query, kv: view, position: last + t, window: window, headDim: headDim, scale: 0.125,
                out: &exact)
              for i in 0..<headDim {
                #expect(
                  abs(row[i] - exact[i]) <= 2e-5 + 1e-4 * abs(exact[i]),
                  "twin vs f64: token \(t) head \(h) [\(i)]: \(row[i]) vs \(exact[i])")
              }
              twin.append(row)
            }
          }
        }
      }
      let label = "\(tokens)×\(heads) hd \(headDim) block \(blockSize) last \(last) window \(String(describing: window))"
      let levels: [Int32?] = [nil] + SIMDKernelTests.levels.map { Int32($0) }
      for level in levels {
        let out = Self.tile(
          level: level, paged: paged, queries: queries, tokens: tokens, heads: heads, headDim: headDim,
          blockSize: blockSize, last: last, window: window)
        let got = Self.rows(out, tokens: tokens, heads: heads, headDim: headDim)
        for r in got.indices {
          #expect(
            got[r].map(\.bitPattern) == twin[r].map(\.bitPattern),
            "\(label) level \(String(describing: level)): row \(r) differs from its twin")
        }
        // Nothing written between rows (strides honoured).
        let headStride = headDim + 3
        let tokenStride = heads * headStride + 5
        for t in 0..<tokens {
          for h in 0..<heads {
            for i in headDim..<headStride { #expect(out[t * tokenStride + h * headStride + i].isNaN, "\(label)") }
          }
          for i in (heads * headStride)..<tokenStride { #expect(out[t * tokenStride + i].isNaN, "\(label)") }
        }
      }
    }
  }

  @Test("a row's bits do not depend on the tile it is in")
  func tileInvariance() {
    var rng = SplitMix64(seed: 4242)
    let (tokens, heads, headDim, blockSize, last) = (4, 8, 64, 16, 150)
    let paged = AttentionKernelTests.make(
      positions: last + tokens, blockSize: blockSize, kvHeads: 1, headDim: headDim, rng: &rng)
    let headStride = headDim + 3
    let tokenStride = heads * headStride + 5
    let queries = rng.floats(tokens * tokenStride, in: -3...3)
    let whole = Self.rows(
      Self.tile(
        level: nil, paged: paged, queries: queries, tokens: tokens, heads: heads, headDim: headDim,
        blockSize: blockSize, last: last, window: nil), tokens: tokens, heads: heads, headDim: headDim)
    // The last token alone, as a tile of one token.
    let lastQueries = Array(queries[((tokens - 1) * tokenStride)...])
    let alone = Self.rows(
      Self.tile(
        level: nil, paged: paged, queries: lastQueries, tokens: 1, heads: heads, headDim: headDim,
        blockSize: blockSize, last: last + tokens - 1, window: nil), tokens: 1, heads: heads, headDim: headDim)
    for h in 0..<heads {
      #expect(whole[(tokens - 1) * heads + h].map(\.bitPattern) == alone[h].map(\.bitPattern), "head \(h)")
    }
    #expect(whole.allSatisfy { $0.contains { $0 != 0 } })
  }

  @Test("expNeg is e^x to within 2e-7 relative, and exactly 1 at 0")
  func expNegAccuracy() {
    #expect(expNeg(0) == 1)
    for i in 0...2000 {
      let x = -Float(i) * 0.04
      let e = Float(Foundation.exp(Double(x)))
      #expect(abs(expNeg(x) - e) <= 3e-7 * e, "x = \(x)")
    }
  }
}
