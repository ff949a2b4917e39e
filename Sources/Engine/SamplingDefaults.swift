import GGUF

/// The sampling a model is run with when a request or flag leaves a parameter out: the values its
/// GGUF file recommends under `general.sampling.*` (the keys llama.cpp reads), else llama.cpp's own
/// defaults (temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, no penalties over the last 64
/// tokens). `serve`, `run` and `chat` all start from these, so a model answers alike everywhere.
public struct SamplingDefaults: Sendable, Equatable {
  /// The defaults, seed aside (every caller chooses its own).
  public var parameters: SamplingParameters
  /// The metadata keys that set a value, in the order of `metadataKeys`; empty: llama.cpp's defaults.
  public var keysFromModel: [String]

  /// llama.cpp's defaults (`common_params_sampling`), which `SamplingParameters()` already holds.
  public static let llamaCpp = SamplingDefaults(parameters: SamplingParameters(), keysFromModel: [])

  /// The `general.sampling.*` keys this engine applies. The others llama.cpp knows (mirostat, XTC,
  /// the sampler sequence) name samplers Peregrine does not have, so they are left alone.
  public static let metadataKeys = [
    "general.sampling.temp", "general.sampling.top_k", "general.sampling.top_p", "general.sampling.min_p",
    "general.sampling.penalty_repeat", "general.sampling.penalty_last_n",
  ]

  public init(parameters: SamplingParameters, keysFromModel: [String]) {
    self.parameters = parameters
    self.keysFromModel = keysFromModel
  }

  /// Reads the recommendations of a model file. A value out of range is ignored (the default stays),
  /// so a badly written file cannot make every request fail validation.
  public init(metadata: GGUFMetadata) {
    var p = SamplingParameters()
    var used: [String] = []
    func number(_ key: String) -> Double? {
      guard let v = metadata[key]?.double, v.isFinite else { return nil }
      return v
    }
    if let t = number("general.sampling.temp"), t >= 0, t <= 100 {
      p.temperature = Float(t)
      used.append("general.sampling.temp")
    }
    if let k = number("general.sampling.top_k"), k <= Double(Int32.max) {
      // llama.cpp: k ≤ 0 keeps the whole vocabulary, which is this engine's 0.
      p.topK = max(0, Int(k))
      used.append("general.sampling.top_k")
    }
    if let v = number("general.sampling.top_p"), v > 0, v <= 1 {
      p.topP = Float(v)
      used.append("general.sampling.top_p")
    }
    if let v = number("general.sampling.min_p"), v >= 0, v <= 1 {
      p.minP = Float(v)
      used.append("general.sampling.min_p")
    }
    if let v = number("general.sampling.penalty_repeat"), v > 0, v <= 10 {
      p.repetitionPenalty = Float(v)
      used.append("general.sampling.penalty_repeat")
    }
    if let n = number("general.sampling.penalty_last_n"), n >= -1, n <= Double(Int32.max) {
      // llama.cpp: -1 looks back over the whole context.
      p.penaltyWindow = n < 0 ? Int(Int32.max) : Int(n)
      used.append("general.sampling.penalty_last_n")
    }
    self.init(parameters: p, keysFromModel: used)
  }

  /// One line for logs and `peregrine show`, e.g. "temperature 0.8, top_k 40, top_p 0.95, min_p 0.05
  /// (llama.cpp's defaults)".
  public var summary: String {
    let p = parameters
    var parts = [
      "temperature \(Self.format(p.temperature))", "top_k \(p.topK)", "top_p \(Self.format(p.topP))",
      "min_p \(Self.format(p.minP))",
    ]
    if p.repetitionPenalty != 1 {
      parts.append("repeat_penalty \(Self.format(p.repetitionPenalty)) over \(p.penaltyWindow) tokens")
    }
    let source =
      keysFromModel.isEmpty
      ? "llama.cpp's defaults; the model file recommends none"
      : "from the model file's \(keysFromModel.joined(separator: ", ")); llama.cpp's defaults otherwise"
    return parts.joined(separator: ", ") + " (" + source + ")"
  }

  static func format(_ x: Float) -> String {
    let rounded = (Double(x) * 1000).rounded() / 1000
    return rounded == rounded.rounded() ? String(Int(rounded)) + ".0" : String(rounded)
  }
}
