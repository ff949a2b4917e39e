import Kernels

extension DecoderModel {
  public func forward(_ batch: ForwardBatch, cache: PagedKVCache, scratch arena: ScratchArena) throws(ModelError)
    -> Logits
  {
    let c = config
    try batch.validate(vocabularySize: c.vocabularySize, contextLength: c.contextLength, cache: cache)
    try cache.checkFits(layers: c.layers, kvDim: c.kvHeads * c.headDim, headDim: c.headDim)
    let tokens = batch.tokens
    let n = tokens.count
    let placement = TokenPlacement(batch)
    let units = AttentionUnits(batch, type: cache.type, group: c.heads / c.kvHeads)
    let d = c.embeddingLength
    let hd = c.headDim
    let qDim = c.heads * hd
    let kvDim = c.kvHeads * hd
    let ff = c.experts == nil ? c.feedForwardLength : 0
    let expertFloats = layers.lazy.compactMap { $0.mixture?.scratchFloats(n) }.max() ?? 0

    let buffers = LayerBuffers(arena: arena, n: n, d: d, qDim: qDim, kvDim: kvDim, ff: ff, extraFloats: expertFloats)
    let (x, xn, y, q, k, v, att, gate, up) = (
      buffers.x, buffers.xn, buffers.y, buffers.q, buffers.k, buffers.v, buffers.att, buffers.gate, buffers.up)

    // Mixture-of-experts routers: which rows llama.cpp multiplied in a batch (its F32 product order
    // depends on it; see `BatchSlice.referenceBatchedFloat`). In the last layer llama.cpp keeps only
    // the rows that need logits before the feed-forward block, so a slice asking for its last
    // token's logits routes that row alone there.
    var routedInBatch = [Bool](repeating: false, count: c.experts == nil ? 0 : n)  // [n]
    var lastLayerRoutedInBatch = routedInBatch  // [n]
    var workspace = ExpertWorkspace()
    if c.experts != nil {
      for slice in batch.slices {
        for j in 0..<slice.tokenCount {
          let t = slice.tokenOffset + j
          routedInBatch[t] = BatchSlice.referenceBatchedFloat(
            position: placement.position[t], promptLength: slice.promptLength)
          lastLayerRoutedInBatch[t] = slice.logits == .all && routedInBatch[t]
        }
      }
    }

    // Which tokens llama.cpp multiplied by K-quant weights in a batch, and which in the last layer's
    // feed-forward block, where it keeps only the rows that need logits.
    let batched = ReferenceBatchedRows(batch, placement: placement, checkpointCuts: referenceCheckpointCuts)
    let lastFFN = ReferenceBatchedRows(
      batch, placement: placement, checkpointCuts: referenceCheckpointCuts, logitRowsOnly: true)

    for (t, id) in tokens.enumerated() { dequantizeRow(embedding.type, embedding.row(Int(id)), x + t * d, d) }

    for (l, layer) in layers.enumerated() {
      pool.perToken(n) { range in normRows(x, layer.attnNorm, xn, rows: range, width: d, eps: c.rmsEpsilon) }
      batched.withRows { matmulShared(layer.wq, q, layer.wk, k, layer.wv, v, x: xn, n: n, pool: pool, batched: $0) }
      pool.perToken(n) { range in
        for t in range {
          let qt = q + t * qDim  // [heads, hd]
          let kt = k + t * kvDim  // [kvHeads, hd]
          addBias(layer.bq, qt)
          addBias(layer.bk, kt)
          addBias(layer.bv, v + t * kvDim)
          if let qNorm = layer.qNorm, let kNorm = layer.kNorm {
            normRows(qt, qNorm, qt, rows: 0..<c.heads, width: hd, eps: c.rmsEpsilon)
            normRows(kt, kNorm, kt, rows: 0..<c.kvHeads, width: hd, eps: c.rmsEpsilon)
          }
          rope.apply(
            queries: qt, heads: c.heads, keys: kt, kvHeads: c.kvHeads, headDim: hd, position: placement.position[t])
        }
        storeKV(k, v, batch: batch, placement: placement, layer: l, cache: cache, tokens: range)
      }
      attention.run(
        q: q, out: att, batch: batch, placement: placement, units: units, layer: l, cache: cache, pool: pool)
      batched.withRows { matmul(layer.wo, att, y, n: n, pool: pool, batched: $0) }
      pool.perToken(n) { range in
        for t in range { addBias(layer.bo, y + t * d) }
        addInPlace(x + range.lowerBound * d, y + range.lowerBound * d, range.count * d)
        normRows(x, layer.ffnNorm, xn, rows: range, width: d, eps: c.rmsEpsilon)
      }

      switch layer.feedForward {
      case .dense(let wGate, let wUp, let wDown, let biases):
        let ffnRows = l == layers.count - 1 ? lastFFN : batched
        ffnRows.withRows { matmulShared(wGate, gate, wUp, up, x: xn, n: n, pool: pool, batched: $0) }
        if let b = biases {
          for t in 0..<n {
            addBias(b.gate, gate + t * ff)
            addBias(b.up, up + t * ff)
          }
        }
        swiglu(gate, up, n * ff)
        ffnRows.withRows { matmul(wDown, gate, y, n: n, pool: pool, batched: $0) }
        if let b = biases { for t in 0..<n { addBias(b.down, y + t * d) } }
      case .experts(let mixture):
        (l == layers.count - 1 ? lastLayerRoutedInBatch : routedInBatch).withUnsafeBufferPointer { batched in
          mixture.forward(
            xn, y, n: n, batched: batched.baseAddress!, workspace: &workspace, arena: arena, pool: pool)
        }
      }
      pool.perToken(n) { range in addInPlace(x + range.lowerBound * d, y + range.lowerBound * d, range.count * d) }
    }

    let head = OutputHead(norm: outputNorm, eps: c.rmsEpsilon, weights: output, vocabularySize: c.vocabularySize)
    var logits = head.logits(x: x, scratch: xn, batch: batch, width: d, pool: pool)
    if let bias = outputBias {
      for r in 0..<logits.rows {
        for i in 0..<c.vocabularySize { logits.values[r * c.vocabularySize + i] += bias[i] }
      }
    }
    return logits
  }

  /// `x[i] += bias[i]` (llama.cpp adds biases after the product, as its own operation).
  @inline(__always) private func addBias(_ bias: [Float]?, _ x: UnsafeMutablePointer<Float>) {
    guard let bias else { return }
    bias.withUnsafeBufferPointer { b in
      for i in 0..<b.count { x[i] += b[i] }
    }
  }
}

extension DecoderModel.Layer {
  var mixture: MixtureOfExperts? {
    if case .experts(let m) = feedForward { return m }
    return nil
  }
}
