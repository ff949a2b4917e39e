import GGUF
import Kernels

/// Maps `general.architecture` to the initialiser of the file that implements it.
public enum ModelRegistry {
  public typealias Loader = @Sendable (GGUFFile, ThreadPool, Numerics) throws(ModelError) -> any LanguageModel

  public static let architectures: [String: Loader] = [
    "llama": { (file, pool, numerics) throws(ModelError) in try LlamaModel(file: file, pool: pool, numerics: numerics) },
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
}
