/// F32 dot products in the two summation orders llama.cpp's AVX-512 build uses for an F32 weight
/// matrix (the MoE router, `ffn_gate_inp`, which quantizers keep in F32): `ggml_vec_dot_f32` when
/// a product has one activation row, llamafile's `tinyBLAS` when it has two or more. Every lane
/// operation is a fused multiply-add of 16-lane vectors, so SIMD16 arithmetic reproduces it at any
/// vector width; only the grouping below decides the bits.
public enum ReferenceFloatDot {
  /// `ggml_vec_dot_f32`: four 16-lane accumulators over 64-element steps, added (0+2, 1+3), then
  /// (0+1), reduced as `_mm512_reduce_add_ps`; the elements past the last multiple of 64 then
  /// fused into the sum one by one.
  public static func oneRow(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    let ra = UnsafeRawPointer(a)
    let rb = UnsafeRawPointer(b)
    var acc = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
    let body = n & ~63
    var i = 0
    while i < body {
      acc.0.addProduct(load(ra, i), load(rb, i))
      acc.1.addProduct(load(ra, i + 16), load(rb, i + 16))
      acc.2.addProduct(load(ra, i + 32), load(rb, i + 32))
      acc.3.addProduct(load(ra, i + 48), load(rb, i + 48))
      i += 64
    }
    var sum = reduce((acc.0 + acc.2) + (acc.1 + acc.3))
    while i < n {
      sum.addProduct(a[i], b[i])
      i += 1
    }
    return sum
  }

  /// tinyBLAS's F32 tile (n a multiple of 16): one 16-lane accumulator fused over the whole row,
  /// reduced as `_mm512_reduce_add_ps`.
  public static func tiled(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    precondition(n % 16 == 0, "tinyBLAS takes F32 rows of whole 16-float vectors only")
    let ra = UnsafeRawPointer(a)
    let rb = UnsafeRawPointer(b)
    var acc = SIMD16<Float>()
    for i in stride(from: 0, to: n, by: 16) { acc.addProduct(load(ra, i), load(rb, i)) }
    return reduce(acc)
  }

  /// `_mm512_reduce_add_ps`: upper + lower 8 lanes, upper + lower 4, then (0+2) + (1+3).
  @inline(__always) public static func reduce(_ v: SIMD16<Float>) -> Float {
    let h8 = v.highHalf + v.lowHalf
    let h4 = h8.highHalf + h8.lowHalf
    return (h4[0] + h4[2]) + (h4[1] + h4[3])
  }

  @inline(__always) static func load(_ p: UnsafeRawPointer, _ i: Int) -> SIMD16<Float> {
    p.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
  }
}
