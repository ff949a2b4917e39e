import GGUF
import Kernels

/// Hyperparameters of a llama-architecture model, read from `llama.*` metadata.
public struct LlamaConfig: Sendable, Equatable {
  public var embeddingLength: Int  // d
  public var layers: Int
  public var heads: Int
  public var kvHeads: Int
  public var headDim: Int
  public var feedForwardLength: Int
  public var vocabularySize: Int
  public var contextLength: Int
  public var ropeBase: Float
  public var ropeDimensions: Int
  public var rmsEpsilon: Float

  init(metadata m: GGUFMetadata, vocabularySize: Int) throws(ModelError) {
    do {
      embeddingLength = try m.int("llama.embedding_length")
      layers = try m.int("llama.block_count")
      heads = try m.int("llama.attention.head_count")
      kvHeads = (try? m.int("llama.attention.head_count_kv")) ?? heads
      feedForwardLength = try m.int("llama.feed_forward_length")
      contextLength = try m.int("llama.context_length")
      ropeBase = (try? m.float("llama.rope.freq_base")) ?? 10000
      rmsEpsilon = (try? m.float("llama.attention.layer_norm_rms_epsilon")) ?? 1e-5
    } catch {
      throw .file(error)
    }
    self.vocabularySize = vocabularySize
    guard embeddingLength > 0, layers > 0, heads > 0, kvHeads > 0, heads % kvHeads == 0,
      embeddingLength % heads == 0, feedForwardLength > 0, contextLength > 0
    else {
      throw .invalidHyperparameter(
        "d=\(embeddingLength) layers=\(layers) heads=\(heads)/\(kvHeads) ffn=\(feedForwardLength) ctx=\(contextLength)")
    }
    headDim = (try? m.int("llama.attention.key_length")) ?? embeddingLength / heads
    ropeDimensions = (try? m.int("llama.rope.dimension_count")) ?? headDim
    guard ropeDimensions <= headDim, ropeDimensions % 2 == 0 else {
      throw .invalidHyperparameter("rope dimension \(ropeDimensions) with head size \(headDim)")
    }
  }
}

/// Llama: RMSNorm → GQA attention with RoPE → residual → RMSNorm → SwiGLU MLP → residual.
public final class LlamaModel: LanguageModel {
  struct Layer {
    var attnNorm: [Float]  // [d]
    var wq, wk, wv, wo: WeightMatrix  // [heads*hd, d], [kvHeads*hd, d] ×2, [d, heads*hd]
    var ffnNorm: [Float]  // [d]
    var wGate, wUp, wDown: WeightMatrix  // [ffn, d] ×2, [d, ffn]
  }

  public let config: LlamaConfig
  public let info: ModelInfo
  public let numerics: Numerics
  let file: GGUFFile  // keeps the mapping alive under the weight views
  let embedding: WeightMatrix  // [vocab, d]
  let layers: [Layer]
  let outputNorm: [Float]  // [d]
  let output: WeightMatrix  // [vocab, d], the embedding when tied
  let rope: RopeTable
  let attention: CausalAttention
  let pool: ThreadPool

  public init(file: GGUFFile, pool: ThreadPool, numerics: Numerics = .exact) throws(ModelError) {
    self.numerics = numerics
    let t = TensorLoader(file: file, numerics: numerics)
    let embedInfo = try t.info("token_embd.weight")
    guard embedInfo.shape.count == 2 else {
      throw .badTensorShape(name: "token_embd.weight", expected: [0, 0], actual: embedInfo.shape)
    }
    let c = try LlamaConfig(metadata: file.metadata, vocabularySize: embedInfo.shape[1])
    let d = c.embeddingLength
    let qDim = c.heads * c.headDim
    let kvDim = c.kvHeads * c.headDim
    config = c
    self.file = file
    self.pool = pool
    embedding = try t.matrix("token_embd.weight", rows: c.vocabularySize, cols: d)
    var layers: [Layer] = []
    for i in 0..<c.layers {
      let p = "blk.\(i)."
      layers.append(
        Layer(
          attnNorm: try t.vector(p + "attn_norm.weight", count: d),
          wq: try t.matrix(p + "attn_q.weight", rows: qDim, cols: d),
          wk: try t.matrix(p + "attn_k.weight", rows: kvDim, cols: d),
          wv: try t.matrix(p + "attn_v.weight", rows: kvDim, cols: d),
          wo: try t.matrix(p + "attn_output.weight", rows: d, cols: qDim),
          ffnNorm: try t.vector(p + "ffn_norm.weight", count: d),
          wGate: try t.matrix(p + "ffn_gate.weight", rows: c.feedForwardLength, cols: d),
          wUp: try t.matrix(p + "ffn_up.weight", rows: c.feedForwardLength, cols: d),
          wDown: try t.matrix(p + "ffn_down.weight", rows: d, cols: c.feedForwardLength)))
    }
    self.layers = layers
    outputNorm = try t.vector("output_norm.weight", count: d)
    output =
      t.has("output.weight")
      ? try t.matrix("output.weight", rows: c.vocabularySize, cols: d) : embedding
    rope = RopeTable(dimensions: c.ropeDimensions, base: c.ropeBase, adjacentPairs: true)
    attention = CausalAttention(
      heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, scale: 1 / Float(c.headDim).squareRoot(), window: nil)
    info = ModelInfo(
      architecture: "llama", name: (try? file.metadata.string("general.name")) ?? "llama",
      vocabularySize: c.vocabularySize, contextLength: c.contextLength, layers: c.layers, embeddingLength: d)
  }

  /// Under `.exact`, a prompt position's K-quant products follow llama.cpp's batched or one-row order
  /// by its prompt length (`BatchSlice.referenceBatched`), as Gemma 3's do; other weight types have
  /// one order for any batch.
  public var ordersByPromptLength: Bool {
    numerics == .exact && weightMatrices.contains { [.q4_K, .q5_K, .q6_K].contains($0.type) }
  }

  public var weightMatrices: [WeightMatrix] {
    layers.flatMap { [$0.wq, $0.wk, $0.wv, $0.wo, $0.wGate, $0.wUp, $0.wDown] } + [output]
  }

  public var kvLayout: KVLayout { KVLayout(layers: config.layers, kvDim: config.kvHeads * config.headDim, headDim: config.headDim) }

  public func forward(_ batch: ForwardBatch, cache: PagedKVCache, scratch arena: ScratchArena) throws(ModelError)
    -> Logits
  {
    try batch.validate(vocabularySize: config.vocabularySize, contextLength: config.contextLength, cache: cache)
    guard cache.layers == config.layers, cache.kvDim == config.kvHeads * config.headDim else {
      throw .invalidHyperparameter("KV cache shape \(cache.layers)×\(cache.kvDim) does not fit this model")
    }
    if let reason = cache.type.unsupportedReason(headDim: config.headDim) { throw .invalidHyperparameter(reason) }
    let tokens = batch.tokens
    let n = tokens.count
    let placement = TokenPlacement(batch)
    let c = config
    let d = c.embeddingLength
    let qDim = c.heads * c.headDim
    let kvDim = c.kvHeads * c.headDim
    let ff = c.feedForwardLength

    arena.reset(
      reserving: ScratchArena.footprint(n * d, n * d, n * qDim, n * kvDim, n * kvDim, n * qDim, n * ff, n * ff))
    let x = arena.take(n * d)  // [n, d] residual stream
    let xn = arena.take(n * d)  // [n, d] normed
    let q = arena.take(n * qDim)  // [n, heads, hd]
    let k = arena.take(n * kvDim)  // [n, kvHeads, hd]
    let v = arena.take(n * kvDim)  // [n, kvHeads, hd]
    let att = arena.take(n * qDim)  // [n, heads, hd]
    let gate = arena.take(n * ff)  // [n, ffn]
    let up = arena.take(n * ff)  // [n, ffn]

    for (t, id) in tokens.enumerated() { dequantizeRow(embedding.type, embedding.row(Int(id)), x + t * d, d) }
    // Which tokens llama.cpp multiplied by K-quant weights in a batch, and which in the last layer's
    // feed-forward block, where it keeps only the rows that need logits.
    let batched = ReferenceBatchedRows(batch, placement: placement, checkpointCuts: referenceCheckpointCuts)
    let lastFFN = ReferenceBatchedRows(
      batch, placement: placement, checkpointCuts: referenceCheckpointCuts, logitRowsOnly: true)

    for (l, layer) in layers.enumerated() {
      layer.attnNorm.withUnsafeBufferPointer { w in
        for t in 0..<n { rmsNorm(x + t * d, w.baseAddress!, xn + t * d, d, eps: c.rmsEpsilon) }
      }
      batched.withRows { matmulShared(layer.wq, q, layer.wk, k, layer.wv, v, x: xn, n: n, pool: pool, batched: $0) }
      for t in 0..<n {
        rope.apply(q + t * qDim, heads: c.heads, headDim: c.headDim, position: placement.position[t])
        rope.apply(k + t * kvDim, heads: c.kvHeads, headDim: c.headDim, position: placement.position[t])
      }
      storeKV(k, v, batch: batch, placement: placement, layer: l, cache: cache)
      attention.run(q: q, out: att, batch: batch, placement: placement, layer: l, cache: cache, pool: pool)
      batched.withRows { matmul(layer.wo, att, xn, n: n, pool: pool, batched: $0) }
      addInPlace(x, xn, n * d)

      layer.ffnNorm.withUnsafeBufferPointer { w in
        for t in 0..<n { rmsNorm(x + t * d, w.baseAddress!, xn + t * d, d, eps: c.rmsEpsilon) }
      }
      let ffnRows = l == layers.count - 1 ? lastFFN : batched
      ffnRows.withRows { matmulShared(layer.wGate, gate, layer.wUp, up, x: xn, n: n, pool: pool, batched: $0) }
      swiglu(gate, up, n * ff)
      ffnRows.withRows { matmul(layer.wDown, gate, xn, n: n, pool: pool, batched: $0) }
      addInPlace(x, xn, n * d)
    }

    let head = OutputHead(norm: outputNorm, eps: c.rmsEpsilon, weights: output, vocabularySize: c.vocabularySize)
    return head.logits(x: x, scratch: xn, batch: batch, width: d, pool: pool)
  }
}
