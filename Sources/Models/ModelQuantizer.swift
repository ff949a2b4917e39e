import GGUF
import Kernels

/// Re-encodes a model's weight matrices in another tensor type, keeping every metadata key and every
/// other tensor as it is (norms and biases stay F32). A matrix whose rows do not divide into the
/// target's blocks is kept in F16 so the file still loads.
public enum ModelQuantizer {
  /// Types `quantize` can write.
  public static let targetTypes: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

  /// What a conversion did, for the command's report.
  public struct Report: Sendable, Equatable {
    public var converted = 0
    public var kept = 0
    public var fallbackF16 = 0
    public var bytesIn = 0
    public var bytesOut = 0
  }

  /// llama.cpp's `general.file_type` code for a file whose matrices are mostly `type`.
  static func fileType(_ type: GGMLType) -> Int? {
    switch type {
    case .f32: 0
    case .f16: 1
    case .q4_0: 2
    case .q4_1: 3
    case .q8_0: 7
    case .q5_0: 8
    case .q5_1: 9
    case .q2_K: 10
    case .q3_K: 11
    case .q4_K: 14
    case .q5_K: 16
    case .q6_K: 18
    case .bf16: 32
    default: nil
    }
  }

  /// Whether a tensor is a weight matrix that quantization applies to. A mixture of experts' router
  /// (`ffn_gate_inp`) stays as it is, as llama-quantize leaves it: routing is sensitive, and its F32
  /// product is what the reference engine computes.
  static func isMatrix(_ t: GGUFTensorInfo) -> Bool {
    t.shape.count >= 2 && t.rowCount > 1 && t.name.hasSuffix(".weight") && !t.name.contains("norm")
      && !t.name.contains("ffn_gate_inp")
  }

  /// Builds the converted file in memory; `progress` gets each tensor's name.
  public static func quantize(
    _ file: GGUFFile, to type: GGMLType, progress: (String) -> Void = { _ in }
  ) throws(ModelError) -> (GGUFWriter, Report) {
    guard targetTypes.contains(type) else {
      throw .invalidHyperparameter(
        "cannot quantize to \(type); supported: \(targetTypes.map(\.description).joined(separator: ", "))")
    }
    var writer = GGUFWriter(version: 3, alignment: file.alignment)
    for key in file.metadata.keys {
      if let v = file.metadata[key] { writer.set(key, v) }
    }
    if let code = fileType(type) { writer.set("general.file_type", .uint32(UInt32(code))) }
    if type.blockSize > 1 { writer.set("general.quantization_version", .uint32(2)) }
    var report = Report()
    for t in file.tensors {
      progress(t.name)
      let source = file.data(of: t)
      report.bytesIn += t.byteCount
      var target = t.type
      if isMatrix(t) {
        target = t.rowLength % type.blockSize == 0 ? type : .f16
        if target != type { report.fallbackF16 += 1 } else { report.converted += 1 }
      } else {
        report.kept += 1
      }
      var bytes: [UInt8]
      if target == t.type {
        bytes = Array(source)
      } else {
        guard supportedWeightTypes.contains(t.type) else { throw .kernel(.unsupportedType(t.type, operation: "quantize")) }
        guard let rowBytes = target.rowBytes(t.rowLength), let sourceRow = t.type.rowBytes(t.rowLength) else {
          throw .badTensorShape(name: t.name, expected: [], actual: t.shape)
        }
        bytes = [UInt8](repeating: 0, count: rowBytes * t.rowCount)
        let row = UnsafeMutablePointer<Float>.allocate(capacity: t.rowLength)  // [rowLength]
        defer { row.deallocate() }
        bytes.withUnsafeMutableBytes { dst in
          for r in 0..<t.rowCount {
            dequantizeRow(t.type, source.baseAddress! + r * sourceRow, row, t.rowLength)
            quantizeRow(target, row, dst.baseAddress! + r * rowBytes, t.rowLength)
          }
        }
      }
      report.bytesOut += bytes.count
      do { try writer.addTensor(name: t.name, type: target, shape: t.shape, data: bytes) } catch {
        throw .invalidHyperparameter("cannot add tensor \(t.name): \(error)")
      }
    }
    return (writer, report)
  }
}
