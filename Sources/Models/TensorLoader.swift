import GGUF
import Kernels

/// Looks up tensors of a GGUF file by name and checks their shapes, for architecture initialisers.
struct TensorLoader {
  let file: GGUFFile
  /// The summation order the matrices' products follow.
  var numerics: Numerics = .exact

  func info(_ name: String) throws(ModelError) -> GGUFTensorInfo {
    guard let t = file.tensor(named: name) else { throw .file(.missingTensor(name)) }
    return t
  }

  func has(_ name: String) -> Bool { file.tensor(named: name) != nil }

  /// A matrix with `rows` rows of `cols` elements (GGUF shape `[cols, rows]`).
  func matrix(_ name: String, rows: Int, cols: Int) throws(ModelError) -> WeightMatrix {
    let t = try info(name)
    guard t.shape == [cols, rows] else { throw .badTensorShape(name: name, expected: [cols, rows], actual: t.shape) }
    do {
      return try WeightMatrix(
        type: t.type, rows: rows, cols: cols, data: file.data(of: t).baseAddress!,
        releasesSourceAfterPacking: file.isFileMapping, numerics: numerics)
    } catch {
      throw .kernel(error)
    }
  }

  /// A 1-D vector of `count` floats, converted to F32 (norm weights are tiny; copying is fine).
  func vector(_ name: String, count: Int) throws(ModelError) -> [Float] {
    let t = try info(name)
    guard t.shape == [count] else { throw .badTensorShape(name: name, expected: [count], actual: t.shape) }
    guard supportedWeightTypes.contains(t.type) else {
      throw .kernel(.unsupportedType(t.type, operation: "loading '\(name)'"))
    }
    var out = [Float](repeating: 0, count: count)
    out.withUnsafeMutableBufferPointer { dequantizeRow(t.type, file.data(of: t).baseAddress!, $0.baseAddress!, count) }
    return out
  }
}
