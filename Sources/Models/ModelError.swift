import GGUF
import Kernels

/// Why a model could not be loaded or run.
public enum ModelError: Error, Equatable, CustomStringConvertible {
  case unsupportedArchitecture(String, supported: [String])
  /// A file of a supported architecture uses a feature Peregrine does not implement (named).
  case unsupportedFeature(architecture: String, feature: String)
  case file(GGUFError)
  case kernel(KernelError)
  case badTensorShape(name: String, expected: [Int], actual: [Int])
  case invalidHyperparameter(String)
  case contextFull(needed: Int, capacity: Int)
  case invalidToken(Int32, vocabularySize: Int)
  case emptyInput

  public var description: String {
    switch self {
    case .unsupportedArchitecture(let a, let s):
      "architecture '\(a)' is not supported (supported: \(s.joined(separator: ", ")))"
    case .unsupportedFeature(let a, let f): "this \(a) file needs \(f), which is not supported"
    case .file(let e): e.description
    case .kernel(let e): e.description
    case .badTensorShape(let name, let expected, let actual):
      "tensor '\(name)' has shape \(actual), expected \(expected)"
    case .invalidHyperparameter(let what): "invalid model hyperparameter: \(what)"
    case .contextFull(let needed, let capacity):
      "context is full: \(needed) tokens needed, the KV cache holds \(capacity)"
    case .invalidToken(let id, let n): "token id \(id) is outside the vocabulary (0..<\(n))"
    case .emptyInput: "no tokens to process"
    }
  }
}
