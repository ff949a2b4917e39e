import GGUF
import Kernels

extension RopeTable {
  /// The RoPE of a llama-family file, read as llama.cpp reads it: `<arch>.rope.freq_base` (10,000
  /// if absent), `.rope.dimension_count` (the head size if absent), `.rope.scaling.type`
  /// (`none`, `linear` — the default, a no-op without a factor — or `yarn`), `.rope.scaling.factor`,
  /// `.rope.scaling.original_context_length`, `.rope.scaling.attn_factor`, and per-pair frequency
  /// divisors (`rope_freqs.weight`, Llama 3) when the architecture reads them.
  ///
  /// - Parameters:
  ///   - frequencyFactors: `rope_freqs.weight` as floats, `[dimensions / 2]`, or nil.
  init(
    metadata m: GGUFMetadata, architecture arch: String, headDim: Int, contextLength: Int, adjacentPairs: Bool,
    frequencyFactors: [Float]? = nil
  ) throws(ModelError) {
    let p = arch + "."
    typealias Check = HyperparameterChecks
    let base = try Check.optionalFloat(m, p + "rope.freq_base") ?? 10_000
    try Check.positiveFinite(p + "rope.freq_base", base)
    let dimensions = try Check.optionalInt(m, p + "rope.dimension_count") ?? headDim
    guard dimensions > 0, dimensions <= headDim, dimensions % 2 == 0 else {
      throw .invalidHyperparameter(
        "\(p)rope.dimension_count is \(dimensions); it must be even and between 2 and the head size \(headDim)")
    }
    if let f = frequencyFactors {
      guard f.count == dimensions / 2 else {
        throw .invalidHyperparameter("rope_freqs.weight: \(f.count) factors for \(dimensions / 2) frequency pairs")
      }
      if let bad = f.firstIndex(where: { !($0 > 0 && $0.isFinite) }) {
        throw .invalidHyperparameter(
          "rope_freqs.weight[\(bad)] is \(f[bad]); every factor must be a positive finite number")
      }
    }
    let type = try Check.optionalString(m, p + "rope.scaling.type") ?? "linear"
    // Older converters wrote the linear factor as `rope.scale_linear`.
    let legacyFactor = try Check.optionalFloat(m, p + "rope.scale_linear")
    let factor = try Check.optionalFloat(m, p + "rope.scaling.factor") ?? legacyFactor ?? 0
    let attentionFactor = try Check.optionalFloat(m, p + "rope.scaling.attn_factor") ?? 1
    guard factor >= 0, factor.isFinite else {
      throw .invalidHyperparameter("\(p)rope.scaling.factor is \(factor); it must be a finite number ≥ 0")
    }
    try Check.positiveFinite(p + "rope.scaling.attn_factor", attentionFactor)
    var scaling = RopeScaling(frequencyFactors: frequencyFactors, attentionFactor: attentionFactor)
    switch type {
    case "none":
      break
    case "linear":
      if factor > 0 { scaling.frequencyScale = 1 / factor }
    case "yarn":
      let original = try Check.optionalInt(m, p + "rope.scaling.original_context_length") ?? contextLength
      try Check.dimension(p + "rope.scaling.original_context_length", original, max: Int(Int32.max))
      var yarn = RopeScaling.yarn(
        factor: factor > 0 ? factor : 1, originalContext: original, dimensions: dimensions, base: base,
        attentionFactor: attentionFactor)
      yarn.frequencyFactors = frequencyFactors
      scaling = yarn
    default:
      throw .unsupportedFeature(architecture: arch, feature: "RoPE scaling '\(type)' (supported: none, linear, yarn)")
    }
    self.init(dimensions: dimensions, base: base, adjacentPairs: adjacentPairs, scaling: scaling)
  }
}
