import GGUF
import Kernels

/// Hyperparameters of a llama-family decoder, read from `<architecture>.*` metadata the way
/// llama.cpp reads them.
public struct DecoderConfig: Sendable, Equatable {
  public var architecture: String
  public var embeddingLength: Int  // d
  public var layers: Int
  public var heads: Int
  public var kvHeads: Int
  /// Values per head of queries, keys and values (`attention.key_length` = `value_length`; it may
  /// differ from d / heads, as in Qwen3 and Mistral Nemo).
  public var headDim: Int
  public var feedForwardLength: Int
  public var vocabularySize: Int
  public var contextLength: Int
  public var rmsEpsilon: Float
  /// Mixture-of-experts feed-forward layers (nil: dense ones).
  public var experts: ExpertCounts?

  /// Warnings about values the loader had to adjust (a context too long for this machine).
  public var warnings: [String] = []

  init(metadata m: GGUFMetadata, traits: DecoderTraits, vocabularySize: Int) throws(ModelError) {
    typealias Check = HyperparameterChecks
    let arch = traits.architecture
    let p = arch + "."
    architecture = arch
    do {
      embeddingLength = try m.int(p + "embedding_length")
      layers = try m.int(p + "block_count")
      heads = try m.int(p + "attention.head_count")
      feedForwardLength = try m.int(p + "feed_forward_length")
      contextLength = try m.int(p + "context_length")
    } catch {
      throw .file(error)
    }
    kvHeads = try Check.optionalInt(m, p + "attention.head_count_kv") ?? heads
    rmsEpsilon = try Check.optionalFloat(m, p + "attention.layer_norm_rms_epsilon") ?? 1e-5
    self.vocabularySize = vocabularySize
    try Check.dimension(p + "embedding_length", embeddingLength, max: Check.maxEmbedding)
    try Check.dimension(p + "block_count", layers, max: Check.maxLayers)
    try Check.dimension(p + "attention.head_count", heads, max: Check.maxHeads)
    try Check.dimension(p + "attention.head_count_kv", kvHeads, max: heads)
    try Check.dimension(p + "feed_forward_length", feedForwardLength, max: Check.maxFeedForward)
    // No upper bound here: a context too long for this machine is capped below, with a warning.
    try Check.dimension(p + "context_length", contextLength, max: .max)
    try Check.vocabulary(m, arch: arch, embeddingRows: vocabularySize)
    try Check.positiveFinite(p + "attention.layer_norm_rms_epsilon", rmsEpsilon)
    guard heads % kvHeads == 0 else {
      throw .invalidHyperparameter(
        "\(p)attention.head_count \(heads) is not a multiple of \(p)attention.head_count_kv \(kvHeads)")
    }
    // The head size may differ from d / heads (Qwen3, Mistral Nemo); without key_length it is d / heads.
    guard let keyLength = try Check.optionalInt(m, p + "attention.key_length") ?? embeddingLength.dividedIfExact(by: heads)
    else {
      throw .invalidHyperparameter(
        "\(p)embedding_length \(embeddingLength) is not a multiple of \(p)attention.head_count \(heads)")
    }
    headDim = keyLength
    try Check.dimension(p + "attention.key_length", headDim, max: Check.maxHeadSize)
    guard headDim % 2 == 0 else { throw .invalidHyperparameter("\(p)attention.key_length \(headDim) is odd") }
    let valueDim = try Check.optionalInt(m, p + "attention.value_length") ?? headDim
    guard valueDim == headDim else {
      throw .unsupportedFeature(
        architecture: arch, feature: "value heads of \(valueDim) values beside key heads of \(headDim)")
    }
    let expertCount = try Check.optionalInt(m, p + "expert_count") ?? 0
    switch (traits.experts, expertCount > 0) {
    case (.never, true):
      throw .unsupportedFeature(architecture: arch, feature: "\(expertCount) experts per layer")
    case (.always, false):
      throw .invalidHyperparameter("\(p)expert_count is missing or 0")
    case (_, true):
      try Check.dimension(p + "expert_count", expertCount, max: Check.maxExperts)
      let used = try Check.optionalInt(m, p + "expert_used_count") ?? 0
      try Check.dimension(p + "expert_used_count", used, max: expertCount)
      let length = try Check.optionalInt(m, p + "expert_feed_forward_length") ?? feedForwardLength / used
      try Check.dimension(p + "expert_feed_forward_length", length, max: Check.maxFeedForward)
      experts = ExpertCounts(count: expertCount, used: used, feedForwardLength: length)
    default:
      experts = nil
    }
    let (context, warning) = Check.context(
      contextLength, key: p + "context_length", layers: layers, kvDim: kvHeads * headDim)
    contextLength = context
    if let warning { warnings.append(warning) }
  }
}

extension Int {
  /// self / divisor when it divides evenly, else nil.
  fileprivate func dividedIfExact(by divisor: Int) -> Int? { divisor != 0 && self % divisor == 0 ? self / divisor : nil }
}

/// Experts per mixture-of-experts layer, how many each token uses, and each expert's hidden size.
public struct ExpertCounts: Sendable, Equatable {
  public var count: Int
  public var used: Int
  public var feedForwardLength: Int
}

/// What distinguishes one llama-family architecture's file from another's; each architecture's
/// file (`Llama.swift`, `Qwen2.swift`, …) states its traits and `DecoderModel` does the rest.
struct DecoderTraits: Sendable {
  enum Presence: Sendable { case required, optional, absent }
  enum Experts: Sendable { case never, optional, always }

  var architecture: String
  /// RoPE pairs (x[i], x[i + d/2]) on unpermuted rows (llama.cpp's NEOX mode, the qwen models);
  /// false: adjacent pairs on rows the converter permuted (llama).
  var neoxRope: Bool
  /// Per-head RMSNorm of queries and keys before RoPE (`attn_q_norm`, `attn_k_norm`).
  var headNorms: Bool
  /// Reads `rope_freqs.weight` (Llama 3's per-frequency divisors).
  var ropeFrequencyFactors: Bool
  /// Optional `attn_output.bias` and dense `ffn_{gate,up,down}.bias` (llama).
  var outputAndFeedForwardBiases: Bool
  var experts: Experts
}

/// A llama-family decoder: embedding → per layer [RMSNorm → GQA attention (optional Q/K/V biases,
/// optional per-head Q/K RMSNorm, RoPE) → residual → RMSNorm → SwiGLU feed-forward, dense or a
/// mixture of experts → residual] → RMSNorm → output head (tied to the embedding when the file has
/// no `output.weight`). llama, qwen2, qwen3 and qwen3moe files load into it (see each
/// architecture's file for what it adds); the arithmetic follows llama.cpp's graph for them.
public final class DecoderModel: LanguageModel {
  struct Layer {
    var attnNorm: [Float]  // [d]
    var wq, wk, wv, wo: WeightMatrix  // [heads*hd, d], [kvHeads*hd, d] ×2, [d, heads*hd]
    var bq, bk, bv: [Float]?  // [heads*hd], [kvHeads*hd] ×2
    var bo: [Float]?  // [d]
    var qNorm, kNorm: [Float]?  // [hd]
    var ffnNorm: [Float]  // [d]
    var feedForward: FeedForward
  }

  enum FeedForward {
    /// gate, up: [ffn, d]; down: [d, ffn]; optional biases [ffn], [ffn], [d].
    case dense(gate: WeightMatrix, up: WeightMatrix, down: WeightMatrix, biases: (gate: [Float], up: [Float], down: [Float])?)
    case experts(MixtureOfExperts)
  }

  public let config: DecoderConfig
  public let info: ModelInfo
  public let numerics: Numerics
  /// Under `.exact` a prompt position's products take llama.cpp's one-row or batched order by its
  /// prompt length: a mixture-of-experts router's F32 product (see `MixtureOfExperts`), and Q4_K,
  /// Q5_K and Q6_K weights (`BatchSlice.referenceBatched`); other weight types have one order for
  /// any batch.
  public var ordersByPromptLength: Bool {
    numerics == .exact
      && (config.experts != nil || weightMatrices.contains { [.q4_K, .q5_K, .q6_K].contains($0.type) })
  }
  let file: GGUFFile  // keeps the mapping alive under the weight views
  let embedding: WeightMatrix  // [vocab, d]
  let layers: [Layer]
  let outputNorm: [Float]  // [d]
  let output: WeightMatrix  // [vocab, d], the embedding when tied
  let outputBias: [Float]?  // [vocab]
  let rope: RopeTable
  let attention: CausalAttention
  let pool: ThreadPool

  init(file: GGUFFile, pool: ThreadPool, numerics: Numerics, traits: DecoderTraits) throws(ModelError) {
    self.numerics = numerics
    let t = TensorLoader(file: file, numerics: numerics)
    let embedInfo = try t.info("token_embd.weight")
    guard embedInfo.shape.count == 2 else {
      throw .badTensorShape(name: "token_embd.weight", expected: [0, 0], actual: embedInfo.shape)
    }
    let c = try DecoderConfig(metadata: file.metadata, traits: traits, vocabularySize: embedInfo.shape[1])
    let d = c.embeddingLength
    let qDim = c.heads * c.headDim
    let kvDim = c.kvHeads * c.headDim
    config = c
    self.file = file
    self.pool = pool
    embedding = try t.matrix("token_embd.weight", rows: c.vocabularySize, cols: d)
    func optionalVector(_ name: String, _ count: Int, _ presence: DecoderTraits.Presence) throws(ModelError) -> [Float]? {
      switch presence {
      case .required: return try t.vector(name, count: count)
      case .optional: return t.has(name) ? try t.vector(name, count: count) : nil
      case .absent: return nil
      }
    }
    let extraBiases: DecoderTraits.Presence = traits.outputAndFeedForwardBiases ? .optional : .absent
    var layers: [Layer] = []
    for i in 0..<c.layers {
      let p = "blk.\(i)."
      let feedForward: FeedForward
      if let experts = c.experts {
        feedForward = .experts(
          try MixtureOfExperts(loader: t, prefix: p, counts: experts, width: d))
      } else {
        let ff = c.feedForwardLength
        let gateBias = try optionalVector(p + "ffn_gate.bias", ff, extraBiases)
        let upBias = try optionalVector(p + "ffn_up.bias", ff, extraBiases)
        let downBias = try optionalVector(p + "ffn_down.bias", d, extraBiases)
        let any = gateBias != nil || upBias != nil || downBias != nil
        feedForward = .dense(
          gate: try t.matrix(p + "ffn_gate.weight", rows: ff, cols: d),
          up: try t.matrix(p + "ffn_up.weight", rows: ff, cols: d),
          down: try t.matrix(p + "ffn_down.weight", rows: d, cols: ff),
          biases: any
            ? (gateBias ?? [Float](repeating: 0, count: ff), upBias ?? [Float](repeating: 0, count: ff),
              downBias ?? [Float](repeating: 0, count: d)) : nil)
      }
      layers.append(
        Layer(
          attnNorm: try t.vector(p + "attn_norm.weight", count: d),
          wq: try t.matrix(p + "attn_q.weight", rows: qDim, cols: d),
          wk: try t.matrix(p + "attn_k.weight", rows: kvDim, cols: d),
          wv: try t.matrix(p + "attn_v.weight", rows: kvDim, cols: d),
          wo: try t.matrix(p + "attn_output.weight", rows: d, cols: qDim),
          // llama.cpp reads Q/K/V biases of every llama-family architecture when present.
          bq: try optionalVector(p + "attn_q.bias", qDim, .optional),
          bk: try optionalVector(p + "attn_k.bias", kvDim, .optional),
          bv: try optionalVector(p + "attn_v.bias", kvDim, .optional),
          bo: try optionalVector(p + "attn_output.bias", d, extraBiases),
          qNorm: traits.headNorms ? try t.vector(p + "attn_q_norm.weight", count: c.headDim) : nil,
          kNorm: traits.headNorms ? try t.vector(p + "attn_k_norm.weight", count: c.headDim) : nil,
          ffnNorm: try t.vector(p + "ffn_norm.weight", count: d),
          feedForward: feedForward))
    }
    self.layers = layers
    outputNorm = try t.vector("output_norm.weight", count: d)
    output =
      t.has("output.weight") ? try t.matrix("output.weight", rows: c.vocabularySize, cols: d) : embedding
    outputBias = t.has("output.bias") ? try t.vector("output.bias", count: c.vocabularySize) : nil
    let factors: [Float]? =
      traits.ropeFrequencyFactors && t.has("rope_freqs.weight")
      ? try t.vector("rope_freqs.weight", count: t.info("rope_freqs.weight").shape.first ?? 0) : nil
    rope = try RopeTable(
      metadata: file.metadata, architecture: traits.architecture, headDim: c.headDim, contextLength: c.contextLength,
      adjacentPairs: !traits.neoxRope, frequencyFactors: factors)
    attention = CausalAttention(
      heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, scale: 1 / Float(c.headDim).squareRoot(), window: nil)
    info = ModelInfo(
      architecture: traits.architecture,
      name: (try? file.metadata.string("general.name")) ?? traits.architecture,
      vocabularySize: c.vocabularySize, contextLength: c.contextLength, layers: c.layers, embeddingLength: d,
      warnings: c.warnings)
  }

  public var kvLayout: KVLayout {
    KVLayout(layers: config.layers, kvDim: config.kvHeads * config.headDim, headDim: config.headDim)
  }

  /// Attention and feed-forward matrices, every expert's included, and the output head. Packing them
  /// up front (`packWeights`, as `run`, `serve` and `bench` do at load) keeps repacking out of decode
  /// steps: left to their first use, a mixture's experts were still being packed hundreds of tokens
  /// into a run (15 % of a 30B-A3B-shaped file's decode time). `forward` alone packs only what it reads.
  public var weightMatrices: [WeightMatrix] {
    layers.flatMap { layer -> [WeightMatrix] in
      var m = [layer.wq, layer.wk, layer.wv, layer.wo]
      switch layer.feedForward {
      case .dense(let gate, let up, let down, _): m += [gate, up, down]
      case .experts(let moe): m += moe.gate + moe.up + moe.down
      }
      return m
    } + [output]
  }
}
