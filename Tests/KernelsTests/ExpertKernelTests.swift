import Foundation
import GGUF
import Kernels
import TestSupport
import Testing

/// The pieces a mixture-of-experts layer adds to the kernels: llama.cpp's two F32 dot orders (the
/// router) and `multiplyGrouped` (every expert's product in one parallel region).
@Suite("Expert kernels")
struct ExpertKernelTests {
  /// `ggml_vec_dot_f32`'s order written out element by element with plain floats.
  static func oneRowScalar(_ a: [Float], _ b: [Float]) -> Float {
    var acc = [[Float]](repeating: [Float](repeating: 0, count: 16), count: 4)
    let body = a.count & ~63
    for i in stride(from: 0, to: body, by: 64) {
      for j in 0..<4 { for l in 0..<16 { acc[j][l] = acc[j][l].addingProduct(a[i + 16 * j + l], b[i + 16 * j + l]) } }
    }
    let v = (0..<16).map { l in (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]) }
    var sum = reduce16(v)
    for i in body..<a.count { sum = sum.addingProduct(a[i], b[i]) }
    return sum
  }

  /// tinyBLAS's order, the same way.
  static func tiledScalar(_ a: [Float], _ b: [Float]) -> Float {
    var acc = [Float](repeating: 0, count: 16)
    for i in stride(from: 0, to: a.count, by: 16) { for l in 0..<16 { acc[l] = acc[l].addingProduct(a[i + l], b[i + l]) } }
    return reduce16(acc)
  }

  static func reduce16(_ v: [Float]) -> Float {
    let h8 = (0..<8).map { v[$0 + 8] + v[$0] }
    let h4 = (0..<4).map { h8[$0 + 4] + h8[$0] }
    return (h4[0] + h4[2]) + (h4[1] + h4[3])
  }

  @Test("the F32 router orders equal their element-by-element definitions", arguments: [16, 64, 576, 592, 2048])
  func floatDotOrders(_ n: Int) {
    var rng = SplitMix64(seed: UInt64(n))
    for _ in 0..<20 {
      let a = rng.floats(n, in: -2...2)
      let b = rng.floats(n, in: -2...2)
      let one = a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { ReferenceFloatDot.oneRow(x.baseAddress!, $0.baseAddress!, n) } }
      let tiled = a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { ReferenceFloatDot.tiled(x.baseAddress!, $0.baseAddress!, n) } }
      #expect(one.bitPattern == Self.oneRowScalar(a, b).bitPattern)
      #expect(tiled.bitPattern == Self.tiledScalar(a, b).bitPattern)
      let exact = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
      #expect(abs(Double(one) - exact) < 1e-4 * Double(n) && abs(Double(tiled) - exact) < 1e-4 * Double(n))
    }
  }

  @Test("multiplyGrouped equals matmul product by product, bit for bit", arguments: [GGMLType.q8_0, .q4_1, .f32])
  func groupedEqualsSeparate(_ type: GGMLType) throws {
    var rng = SplitMix64(seed: 0xE5 &+ UInt64(type.rawValue))
    let pool = ThreadPool(threadCount: 3)
    let cols = 96
    let format = ActivationFormat(weights: type)
    let actBytes = format.rowBytes(cols)
    // Products of different heights and row counts, one empty (an expert nobody picked).
    let shapes = [(rows: 40, n: 3), (rows: 8, n: 1), (rows: 72, n: 0), (rows: 33, n: 7), (rows: 96, n: 12)]
    var buffers: [UnsafeMutableRawPointer] = []
    defer { for b in buffers { b.deallocate() } }
    func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
      let p = UnsafeMutableRawPointer.allocate(byteCount: max(64, bytes), alignment: 64)
      buffers.append(p)
      return p
    }
    var products: [GroupedProduct] = []
    var expected: [[Float]] = []
    for s in shapes {
      let bytes = quantizeMatrix(type, rng.floats(s.rows * cols), cols: cols)
      let weights = allocate(bytes.count)
      weights.copyMemory(from: bytes, byteCount: bytes.count)
      let w = try WeightMatrix(type: type, rows: s.rows, cols: cols, data: weights)
      let x = rng.floats(max(1, s.n) * cols, in: -3...3)
      let act = allocate(max(1, s.n) * actBytes)
      x.withUnsafeBufferPointer { quantizeActivationRows(format, $0.baseAddress!, act, rows: max(1, s.n), cols: cols, pool: pool) }
      let y = allocate(4 * max(1, s.n) * s.rows).bindMemory(to: Float.self, capacity: max(1, s.n) * s.rows)
      y.initialize(repeating: .nan, count: max(1, s.n) * s.rows)
      products.append(GroupedProduct(weights: w, act: UnsafeRawPointer(act), actBytes: actBytes, n: s.n, y: y))
      var reference = [Float](repeating: .nan, count: max(1, s.n) * s.rows)
      if s.n > 0 {
        x.withUnsafeBufferPointer { xp in
          reference.withUnsafeMutableBufferPointer { matmul(w, xp.baseAddress!, $0.baseAddress!, n: s.n, pool: pool) }
        }
      }
      expected.append(reference)
    }
    multiplyGrouped(products, pool: pool)
    for (i, p) in products.enumerated() {
      let got = Array(UnsafeBufferPointer(start: p.y, count: expected[i].count))
      if p.n == 0 {
        #expect(got.allSatisfy { $0.isNaN }, "an empty product writes nothing")
      } else {
        #expect(got.map(\.bitPattern) == expected[i].map(\.bitPattern), "product \(i)")
      }
    }
  }
}
