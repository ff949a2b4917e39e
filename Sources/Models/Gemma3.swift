import Foundation
import GGUF
import Kernels

/// Hyperparameters of a Gemma 3 model, read from `gemma3.*` metadata.
public struct Gemma3Config: Sendable, Equatable {
  public var embeddingLength: Int  // d
  public var layers: Int
  public var heads: Int
  public var kvHeads: Int
  public var headDim: Int
  public var feedForwardLength: Int
  public var vocabularySize: Int
  public var contextLength: Int
  public var rmsEpsilon: Float
  /// Sliding-window size of local layers: a token sees itself and the `slidingWindow - 1` before it.
  public var slidingWindow: Int
  /// Every `globalEvery`-th layer (1-based) attends to the whole context; the rest are local.
  public var globalEvery: Int
  /// RoPE base of global layers (`gemma3.rope.freq_base`) and of local ones (10,000 unless the file says).
  public var globalRopeBase: Float
  public var localRopeBase: Float
  /// Linear RoPE scaling factor of global layers (1 = none); local layers are never scaled.
  public var globalRopeScaling: Float
  /// Multiplies queries before attention: 1/√(query_pre_attn_scalar), which GGUF stores as key_length.
  public var attentionScale: Float
  /// Final logits become `cap * tanh(logit / cap)` when set (Gemma 2 had it; Gemma 3 files usually not).
  public var finalLogitSoftcap: Float?

  /// Warnings about values the loader had to adjust (a context too long for this machine).
  public var warnings: [String] = []

  init(metadata m: GGUFMetadata, vocabularySize: Int) throws(ModelError) {
    typealias Check = HyperparameterChecks
    let p = "gemma3."
    do {
      embeddingLength = try m.int(p + "embedding_length")
      layers = try m.int(p + "block_count")
      heads = try m.int(p + "attention.head_count")
      feedForwardLength = try m.int(p + "feed_forward_length")
      contextLength = try m.int(p + "context_length")
      slidingWindow = try m.int(p + "attention.sliding_window")
    } catch {
      throw .file(error)
    }
    kvHeads = try Check.optionalInt(m, p + "attention.head_count_kv") ?? heads
    rmsEpsilon = try Check.optionalFloat(m, p + "attention.layer_norm_rms_epsilon") ?? 1e-6
    globalRopeBase = try Check.optionalFloat(m, p + "rope.freq_base") ?? 1_000_000
    // Local layers use their own base; converters have written it under either name, else 10,000.
    let swaBase = try Check.optionalFloat(m, p + "rope.freq_base_swa")
    localRopeBase = try Check.optionalFloat(m, p + "rope.local.freq_base") ?? swaBase ?? 10_000
    let scalingType = (try? m.string(p + "rope.scaling.type")) ?? "none"
    let factor = try Check.optionalFloat(m, p + "rope.scaling.factor") ?? 1
    globalRopeScaling = scalingType == "linear" && factor.isFinite && factor > 0 ? factor : 1
    // Gemma 3 alternates five local layers with one global one; no GGUF key records the pattern.
    globalEvery = 6
    finalLogitSoftcap = try Check.optionalFloat(m, p + "final_logit_softcapping").flatMap {
      $0.isFinite && $0 > 0 ? $0 : nil
    }
    self.vocabularySize = vocabularySize
    headDim = try Check.optionalInt(m, p + "attention.key_length") ?? 0
    let valueDim = try Check.optionalInt(m, p + "attention.value_length") ?? headDim
    try Check.dimension(p + "embedding_length", embeddingLength, max: Check.maxEmbedding)
    try Check.dimension(p + "block_count", layers, max: Check.maxLayers)
    try Check.dimension(p + "attention.head_count", heads, max: Check.maxHeads)
    try Check.dimension(p + "attention.head_count_kv", kvHeads, max: heads)
    try Check.dimension(p + "attention.key_length", headDim, max: Check.maxHeadSize)
    try Check.dimension(p + "feed_forward_length", feedForwardLength, max: Check.maxFeedForward)
    // No upper bound here: a context too long for this machine is capped below, with a warning.
    try Check.dimension(p + "context_length", contextLength, max: .max)
    try Check.dimension(p + "attention.sliding_window", slidingWindow, max: Int(Int32.max))
    try Check.vocabulary(m, arch: "gemma3", embeddingRows: vocabularySize)
    try Check.positiveFinite(p + "rope.freq_base", globalRopeBase)
    try Check.positiveFinite(p + "rope.local.freq_base", localRopeBase)
    try Check.positiveFinite(p + "attention.layer_norm_rms_epsilon", rmsEpsilon)
    guard heads % kvHeads == 0 else {
      throw .invalidHyperparameter(
        "\(p)attention.head_count \(heads) is not a multiple of \(p)attention.head_count_kv \(kvHeads)")
    }
    guard headDim % 2 == 0, valueDim == headDim else {
      throw .invalidHyperparameter(
        "\(p)attention.key_length \(headDim) must be even and equal \(p)attention.value_length \(valueDim)")
    }
    attentionScale = 1 / Float(headDim).squareRoot()
    // Only the global layers keep every position; the local ones keep their window.
    let globalLayers = max(1, layers / globalEvery)
    let (context, warning) = Check.context(
      contextLength, key: p + "context_length", layers: globalLayers, kvDim: kvHeads * headDim)
    contextLength = context
    if let warning { warnings.append(warning) }
  }

  /// Whether layer `l` (0-based) attends within the sliding window.
  public func isLocal(_ l: Int) -> Bool { (l + 1) % globalEvery != 0 }
}

/// Gemma 3: √d-scaled embedding → per layer [RMSNorm → GQA attention with per-head q/k RMSNorm and
/// NEOX RoPE (local or global) → RMSNorm → residual → RMSNorm → GeGLU MLP → RMSNorm → residual] →
/// RMSNorm → tied output head.
///
/// Gemma's norm multiplies by (1 + w); llama.cpp's converter already stores 1 + w in the GGUF (the
/// 270M file's attn_norm weights average ~13, its q/k norms ~2), so the plain `rmsNorm` applies.
public final class Gemma3Model: LanguageModel {
  struct Layer {
    var attnNorm: [Float]  // [d]
    var wq, wk, wv, wo: WeightMatrix  // [heads*hd, d], [kvHeads*hd, d] ×2, [d, heads*hd]
    var qNorm, kNorm: [Float]  // [hd]
    var postAttnNorm: [Float]  // [d]
    var ffnNorm: [Float]  // [d]
    var wGate, wUp, wDown: WeightMatrix  // [ffn, d] ×2, [d, ffn]
    var postFfnNorm: [Float]  // [d]
  }

  public let config: Gemma3Config
  public let info: ModelInfo
  public let numerics: Numerics
  /// Under `.exact` its Q4_K / Q6_K products take llama.cpp's one-row or batched order by position.
  public var ordersByPromptLength: Bool { numerics == .exact }
  /// llama.cpp's server checkpoints a sliding-window model's context, cutting its prompt batches.
  public var referenceCheckpointCuts: Bool { true }
  let file: GGUFFile  // keeps the mapping alive under the weight views
  let embedding: WeightMatrix  // [vocab, d], also the output head
  let layers: [Layer]
  let outputNorm: [Float]  // [d]
  let localRope: RopeTable
  let globalRope: RopeTable
  let localAttention: CausalAttention
  let globalAttention: CausalAttention
  let pool: ThreadPool

  public init(file: GGUFFile, pool: ThreadPool, numerics: Numerics = .exact) throws(ModelError) {
    self.numerics = numerics
    let t = TensorLoader(file: file, numerics: numerics)
    let embedInfo = try t.info("token_embd.weight")
    guard embedInfo.shape.count == 2 else {
      throw .badTensorShape(name: "token_embd.weight", expected: [0, 0], actual: embedInfo.shape)
    }
    let c = try Gemma3Config(metadata: file.metadata, vocabularySize: embedInfo.shape[1])
    let d = c.embeddingLength
    let hd = c.headDim
    let qDim = c.heads * hd
    let kvDim = c.kvHeads * hd
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
          qNorm: try t.vector(p + "attn_q_norm.weight", count: hd),
          kNorm: try t.vector(p + "attn_k_norm.weight", count: hd),
          postAttnNorm: try t.vector(p + "post_attention_norm.weight", count: d),
          ffnNorm: try t.vector(p + "ffn_norm.weight", count: d),
          wGate: try t.matrix(p + "ffn_gate.weight", rows: c.feedForwardLength, cols: d),
          wUp: try t.matrix(p + "ffn_up.weight", rows: c.feedForwardLength, cols: d),
          wDown: try t.matrix(p + "ffn_down.weight", rows: d, cols: c.feedForwardLength),
          postFfnNorm: try t.vector(p + "post_ffw_norm.weight", count: d)))
    }
    self.layers = layers
    outputNorm = try t.vector("output_norm.weight", count: d)
    // NEOX pairing (x[i], x[i + hd/2]): Gemma's Q/K are not permuted by the converter.
    localRope = RopeTable(dimensions: hd, base: c.localRopeBase, adjacentPairs: false)
    globalRope = RopeTable(
      dimensions: hd, base: c.globalRopeBase, adjacentPairs: false, positionScale: 1 / c.globalRopeScaling)
    // Queries are pre-scaled (see forward), so attention itself uses scale 1.
    localAttention = CausalAttention(
      heads: c.heads, kvHeads: c.kvHeads, headDim: hd, scale: 1, window: c.slidingWindow)
    globalAttention = CausalAttention(heads: c.heads, kvHeads: c.kvHeads, headDim: hd, scale: 1, window: nil)
    info = ModelInfo(
      architecture: "gemma3", name: (try? file.metadata.string("general.name")) ?? "gemma3",
      vocabularySize: c.vocabularySize, contextLength: c.contextLength, layers: c.layers, embeddingLength: d,
      warnings: c.warnings)
  }

  public var weightMatrices: [WeightMatrix] {
    layers.flatMap { [$0.wq, $0.wk, $0.wv, $0.wo, $0.wGate, $0.wUp, $0.wDown] } + [embedding]
  }

  public var kvLayout: KVLayout {
    KVLayout(
      layers: config.layers, kvDim: config.kvHeads * config.headDim, headDim: config.headDim,
      windowedLayers: (0..<config.layers).map { config.isLocal($0) }, window: config.slidingWindow)
  }

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
    let ff = c.feedForwardLength

    let buffers = LayerBuffers(arena: arena, n: n, d: d, qDim: qDim, kvDim: kvDim, ff: ff)
    let (x, xn, y, q, k, v, att, gate, up) = (
      buffers.x, buffers.xn, buffers.y, buffers.q, buffers.k, buffers.v, buffers.att, buffers.gate, buffers.up)

    // Which tokens llama.cpp multiplied by K-quant weights in a batch, and which in the last layer's
    // feed-forward block, where it keeps only the rows that need logits.
    let batched = ReferenceBatchedRows(batch, placement: placement, checkpointCuts: referenceCheckpointCuts)
    let lastFFN = ReferenceBatchedRows(
      batch, placement: placement, checkpointCuts: referenceCheckpointCuts, logitRowsOnly: true)

    let embedScale = Float(d).squareRoot()
    for (t, id) in tokens.enumerated() {
      dequantizeRow(embedding.type, embedding.row(Int(id)), x + t * d, d)
      for i in 0..<d { x[t * d + i] *= embedScale }
    }

    for (l, layer) in layers.enumerated() {
      let local = c.isLocal(l)
      let rope = local ? localRope : globalRope
      pool.perToken(n) { range in normRows(x, layer.attnNorm, xn, rows: range, width: d, eps: c.rmsEpsilon) }
      batched.withRows { matmulShared(layer.wq, q, layer.wk, k, layer.wv, v, x: xn, n: n, pool: pool, batched: $0) }
      pool.perToken(n) { range in
        for t in range {
          let qt = q + t * qDim  // [heads, hd]
          let kt = k + t * kvDim  // [kvHeads, hd]
          normRows(qt, layer.qNorm, qt, rows: 0..<c.heads, width: hd, eps: c.rmsEpsilon)
          normRows(kt, layer.kNorm, kt, rows: 0..<c.kvHeads, width: hd, eps: c.rmsEpsilon)
          rope.apply(
            queries: qt, heads: c.heads, keys: kt, kvHeads: c.kvHeads, headDim: hd, position: placement.position[t])
          for i in 0..<qDim { qt[i] *= c.attentionScale }
        }
        storeKV(k, v, batch: batch, placement: placement, layer: l, cache: cache, tokens: range)
      }
      (local ? localAttention : globalAttention).run(
        q: q, out: att, batch: batch, placement: placement, units: units, layer: l, cache: cache, pool: pool)
      batched.withRows { matmul(layer.wo, att, y, n: n, pool: pool, batched: $0) }
      pool.perToken(n) { range in
        normRows(y, layer.postAttnNorm, y, rows: range, width: d, eps: c.rmsEpsilon)
        addInPlace(x + range.lowerBound * d, y + range.lowerBound * d, range.count * d)
        normRows(x, layer.ffnNorm, xn, rows: range, width: d, eps: c.rmsEpsilon)
      }
      (l == layers.count - 1 ? lastFFN : batched).withRows {
        matmulShared(layer.wGate, gate, layer.wUp, up, x: xn, n: n, pool: pool, batched: $0)
      }
      geluTanhGated(gate, up, n * ff, pool: pool)
      (l == layers.count - 1 ? lastFFN : batched).withRows {
        matmul(layer.wDown, gate, y, n: n, pool: pool, batched: $0)
      }
      pool.perToken(n) { range in
        normRows(y, layer.postFfnNorm, y, rows: range, width: d, eps: c.rmsEpsilon)
        addInPlace(x + range.lowerBound * d, y + range.lowerBound * d, range.count * d)
      }
    }

    let head = OutputHead(
      norm: outputNorm, eps: c.rmsEpsilon, weights: embedding, vocabularySize: c.vocabularySize,
      softcap: c.finalLogitSoftcap)
    return head.logits(x: x, scratch: xn, batch: batch, width: d, pool: pool)
  }
}
