import GGUF
import Kernels

/// Maps `general.architecture` to the initialiser of the file that implements it.
public enum ModelRegistry {
  public typealias Loader = @Sendable (GGUFFile, ThreadPool, Numerics) throws(ModelError) -> any LanguageModel

  public static let architectures: [String: Loader] = [
    "llama": decoder(Llama.traits),
    "qwen2": decoder(Qwen2.traits),
    "qwen3": decoder(Qwen3.traits),
    "qwen3moe": decoder(Qwen3MoE.traits),
    "gemma3": { (file, pool, numerics) throws(ModelError) in
      try Gemma3Model(file: file, pool: pool, numerics: numerics)
    },
  ]

  public static var supported: [String] { architectures.keys.sorted() }

  /// Builds the model a GGUF file describes, or says which architectures are supported.
  public static func load(
    _ file: GGUFFile, pool: ThreadPool, numerics: Numerics = .exact
  ) throws(ModelError) -> any LanguageModel {
    let arch: String
    do { arch = try file.metadata.string("general.architecture") } catch { throw .file(error) }
    guard let loader = architectures[arch] else { throw .unsupportedArchitecture(arch, supported: supported) }
    try HyperparameterChecks.fileType(file.metadata)
    return try loader(file, pool, numerics)
  }

  private static func decoder(_ traits: DecoderTraits) -> Loader {
    { (file, pool, numerics) throws(ModelError) in
      try DecoderModel(file: file, pool: pool, numerics: numerics, traits: traits)
    }
  }
}
