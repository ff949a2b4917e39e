import GGUF

/// Activations are quantized per 32-element block before integer dot products with quantized
/// weights, as llama.cpp does: Q8_0 (f16 scale, 32 int8) for Q4_0/Q8_0 weights, Q8_1 (f16 scale,
/// f16 scale×sum, 32 int8) for Q4_1 weights, whose per-block minimum needs the sum.
public enum ActivationFormat: Sendable, Equatable {
  case f32
  case q8_0
  case q8_1

  /// The format a weight type multiplies against.
  public init(weights: GGMLType) {
    switch weights {
    case .q4_0, .q8_0: self = .q8_0
    case .q4_1: self = .q8_1
    default: self = .f32
    }
  }

  /// Bytes for one row of `count` activations.
  public func rowBytes(_ count: Int) -> Int {
    switch self {
    case .f32: 4 * count
    case .q8_0: count / 32 * 34
    case .q8_1: count / 32 * 36
    }
  }
}

/// Quantizes one row of `count` floats (a multiple of 32 for the Q8 formats) into `dst`.
public func quantizeActivations(
  _ format: ActivationFormat, _ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ count: Int
) {
  switch format {
  case .f32:
    dst.copyMemory(from: x, byteCount: 4 * count)
  case .q8_0, .q8_1:
    let hasSum = format == .q8_1
    let blockBytes = hasSum ? 36 : 34
    let header = hasSum ? 4 : 2
    for b in 0..<(count / 32) {
      let xb = x + b * 32
      let block = dst + b * blockBytes
      var amax: Float = 0
      for j in 0..<32 { amax = max(amax, abs(xb[j])) }
      let d = amax / 127
      let id: Float = amax != 0 ? 127 / amax : 0
      let q = (block + header).assumingMemoryBound(to: Int8.self)
      var sum: Int32 = 0
      for j in 0..<32 {
        let v = Int8((xb[j] * id).rounded(.toNearestOrEven))
        q[j] = v
        sum += Int32(v)
      }
      block.storeBytes(of: Float16(d).bitPattern, as: UInt16.self)
      if hasSum { block.storeBytes(of: Float16(d * Float(sum)).bitPattern, toByteOffset: 2, as: UInt16.self) }
    }
  }
}

/// Expands quantized activations back to floats (reference twin support and tests).
public func dequantizeActivations(
  _ format: ActivationFormat, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int
) {
  switch format {
  case .f32:
    dst.update(from: src.assumingMemoryBound(to: Float.self), count: count)
  case .q8_0:
    dequantizeRow(.q8_0, src, dst, count)
  case .q8_1:
    for b in 0..<(count / 32) {
      let block = src + b * 36
      let d = loadHalf(block, 0)
      for j in 0..<32 { dst[b * 32 + j] = d * Float(block.load(fromByteOffset: 4 + j, as: Int8.self)) }
    }
  }
}
