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
    let base = (try? m.float(p + "rope.freq_base")) ?? 10_000
    let dimensions = (try? m.int(p + "rope.dimension_count")) ?? headDim
    guard dimensions > 0, dimensions <= headDim, dimensions % 2 == 0, base > 0 else {
      throw .invalidHyperparameter("rope dimension \(dimensions) and base \(base) with head size \(headDim)")
    }
    if let f = frequencyFactors {
      guard f.count == dimensions / 2, f.allSatisfy({ $0 > 0 && $0.isFinite }) else {
        throw .invalidHyperparameter("rope_freqs.weight: \(f.count) factors for \(dimensions / 2) frequency pairs")
      }
    }
    let type = (try? m.string(p + "rope.scaling.type")) ?? "linear"
    let factor = (try? m.float(p + "rope.scaling.factor")) ?? (try? m.float(p + "rope.scale_linear")) ?? 0
    let attentionFactor = (try? m.float(p + "rope.scaling.attn_factor")) ?? 1
    guard factor >= 0, factor.isFinite, attentionFactor > 0, attentionFactor.isFinite else {
      throw .invalidHyperparameter("rope scaling factor \(factor), attention factor \(attentionFactor)")
    }
    var scaling = RopeScaling(frequencyFactors: frequencyFactors, attentionFactor: attentionFactor)
    switch type {
    case "none":
      break
    case "linear":
      if factor > 0 { scaling.frequencyScale = 1 / factor }
    case "yarn":
      let original = (try? m.int(p + "rope.scaling.original_context_length")) ?? contextLength
      guard original > 0 else { throw .invalidHyperparameter("rope.scaling.original_context_length \(original)") }
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
