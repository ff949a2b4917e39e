import GGUF
import Kernels

extension TensorLoader {
  /// The `count` matrices of a 3-D expert tensor (GGUF shape `[cols, rows, count]`): expert e's
  /// `rows` rows lie back to back after expert e−1's, so each is a `WeightMatrix` view in place,
  /// packed on its first use (an expert no token picks is never repacked or read).
  func experts(_ name: String, count: Int, rows: Int, cols: Int) throws(ModelError) -> [WeightMatrix] {
    let t = try info(name)
    guard t.shape == [cols, rows, count] else {
      throw .badTensorShape(name: name, expected: [cols, rows, count], actual: t.shape)
    }
    guard let rowBytes = t.type.rowBytes(cols) else { throw .kernel(.badRowLength(t.type, cols)) }
    let base = file.data(of: t).baseAddress!
    var out: [WeightMatrix] = []
    for e in 0..<count {
      do {
        out.append(
          try WeightMatrix(
            type: t.type, rows: rows, cols: cols, data: base + e * rows * rowBytes,
            releasesSourceAfterPacking: file.isFileMapping, numerics: numerics))
      } catch {
        throw .kernel(error)
      }
    }
    return out
  }

  /// A small matrix (`rows` × `cols`, GGUF shape `[cols, rows]`) converted to F32, row-major.
  func floatMatrix(_ name: String, rows: Int, cols: Int) throws(ModelError) -> [Float] {
    let t = try info(name)
    guard t.shape == [cols, rows] else { throw .badTensorShape(name: name, expected: [cols, rows], actual: t.shape) }
    guard supportedWeightTypes.contains(t.type), let rowBytes = t.type.rowBytes(cols) else {
      throw .kernel(.unsupportedType(t.type, operation: "loading '\(name)'"))
    }
    var out = [Float](repeating: 0, count: rows * cols)
    let base = file.data(of: t).baseAddress!
    out.withUnsafeMutableBufferPointer { dst in
      for r in 0..<rows { dequantizeRow(t.type, base + r * rowBytes, dst.baseAddress! + r * cols, cols) }
    }
    return out
  }
}
