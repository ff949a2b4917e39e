import Kernels

/// The working rows a decoder's forward pass takes from its arena for `n` tokens: the residual
/// stream, a sub-layer's normed input and output, attention's Q/K/V and output, and the dense
/// feed-forward's gate and up rows. `extraFloats` reserves more for the caller's own takes.
struct LayerBuffers {
  let x: UnsafeMutablePointer<Float>  // [n, d] residual stream
  let xn: UnsafeMutablePointer<Float>  // [n, d] normed input of a sub-layer
  let y: UnsafeMutablePointer<Float>  // [n, d] sub-layer output
  let q: UnsafeMutablePointer<Float>  // [n, heads, hd]
  let k: UnsafeMutablePointer<Float>  // [n, kvHeads, hd]
  let v: UnsafeMutablePointer<Float>  // [n, kvHeads, hd]
  let att: UnsafeMutablePointer<Float>  // [n, heads, hd]
  let gate: UnsafeMutablePointer<Float>  // [n, ffn]
  let up: UnsafeMutablePointer<Float>  // [n, ffn]

  init(arena: ScratchArena, n: Int, d: Int, qDim: Int, kvDim: Int, ff: Int, extraFloats: Int = 0) {
    arena.reset(
      reserving: ScratchArena.footprint(n * d, n * d, n * d, n * qDim, n * kvDim, n * kvDim, n * qDim, n * ff, n * ff)
        + extraFloats)
    x = arena.take(n * d)
    xn = arena.take(n * d)
    y = arena.take(n * d)
    q = arena.take(n * qDim)
    k = arena.take(n * kvDim)
    v = arena.take(n * kvDim)
    att = arena.take(n * qDim)
    gate = arena.take(n * ff)
    up = arena.take(n * ff)
  }
}

extension PagedKVCache {
  /// Throws unless this cache was made for a model of `layers` layers and `kvDim` key values a
  /// position, with heads of `headDim` its storage type can hold.
  func checkFits(layers: Int, kvDim: Int, headDim: Int) throws(ModelError) {
    guard self.layers == layers, self.kvDim == kvDim else {
      throw .invalidHyperparameter("KV cache shape \(self.layers)×\(self.kvDim) does not fit this model")
    }
    if let reason = type.unsupportedReason(headDim: headDim) { throw .invalidHyperparameter(reason) }
  }
}

extension ThreadPool {
  /// Per-token work between the matrix products: over the pool's threads for a prompt (on one
  /// thread it left the other idle: RoPE, norms and scaling were ~6 % of pp512 CPU samples), inline
  /// for a few tokens.
  @inline(__always) func perToken(_ n: Int, _ body: (Range<Int>) -> Void) {
    if n < 16 { body(0..<n) } else { parallelEven(n, granule: 1, body) }
  }
}

/// RMSNorm of rows `rows` of `width` floats with one weight vector (`src` may equal `dst`).
func normRows(
  _ src: UnsafeMutablePointer<Float>, _ weight: [Float], _ dst: UnsafeMutablePointer<Float>, rows: Range<Int>,
  width: Int, eps: Float
) {
  weight.withUnsafeBufferPointer { w in
    for r in rows { rmsNorm(src + r * width, w.baseAddress!, dst + r * width, width, eps: eps) }
  }
}
