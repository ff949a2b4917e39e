import GGUF

/// Activations are quantized per 32-element block before integer dot products with quantized
/// weights, as llama.cpp does: Q8_0 (f16 scale, 32 int8) for Q4_0/Q8_0 weights, Q8_1 (f16 scale,
/// f16 scale×sum, 32 int8) for Q4_1/Q5_1 weights, whose per-block minimum needs the sum, and Q8_K
/// (f32 scale, 256 int8, 16 int16 sums of 16) for the K-quants, whose sub-block minimums need the sums.
public enum ActivationFormat: Sendable, Equatable {
  case f32
  case q8_0
  case q8_1
  case q8_K

  /// The format a weight type multiplies against.
  public init(weights: GGMLType) {
    switch weights {
    case .q4_0, .q8_0, .q5_0, .iq4_nl: self = .q8_0
    case .q4_1, .q5_1: self = .q8_1
    case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K: self = .q8_K
    default: self = .f32
    }
  }

  /// Bytes for one row of `count` activations.
  public func rowBytes(_ count: Int) -> Int {
    switch self {
    case .f32: 4 * count
    case .q8_0: count / 32 * 34
    case .q8_1: count / 32 * 36
    case .q8_K: count / 256 * 292
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
  case .q8_K:
    quantizeQ8K(x, dst, count)
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
  case .q8_K:
    dequantizeRow(.q8_K, src, dst, count)
  }
}

/// Q8_K: the element of largest magnitude maps to code -127 (the scale takes its sign, as ggml's
/// does), every other code rounds to nearest-even and clamps at 127; `bsums` keeps each 16 codes' sum.
func quantizeQ8K(_ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ count: Int) {
  for b in 0..<(count / 256) {
    let xb = x + b * 256
    let block = dst + b * 292
    var amax: Float = 0
    var extreme: Float = 0
    for j in 0..<256 where abs(xb[j]) > amax {
      amax = abs(xb[j])
      extreme = xb[j]
    }
    let q = (block + 4).assumingMemoryBound(to: Int8.self)
    guard amax > 0 else {
      block.initializeMemory(as: UInt8.self, repeating: 0, count: 292)
      continue
    }
    let iscale = -127 / extreme
    for j in 0..<256 { q[j] = Int8(min(127, (iscale * xb[j]).rounded(.toNearestOrEven))) }
    for g in 0..<16 {
      var s: Int16 = 0
      for j in 0..<16 { s += Int16(q[16 * g + j]) }
      block.storeBytes(of: s, toByteOffset: 260 + 2 * g, as: Int16.self)
    }
    block.storeBytes(of: 1 / iscale, as: Float.self)
  }
}
