import GGUF

/// Packs `count` floats into one row of `type`, rounding as ggml's reference quantizers do.
/// Used by the GGUF writer's tests and by tools that build models; not on a hot path.
public func quantizeRow(_ type: GGMLType, _ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ count: Int) {
  func storeHalf(_ v: Float, _ p: UnsafeMutableRawPointer) {
    p.storeBytes(of: Float16(v).bitPattern, as: UInt16.self)
  }
  switch type {
  case .f32:
    dst.copyMemory(from: src, byteCount: 4 * count)
  case .f16:
    for i in 0..<count { storeHalf(src[i], dst + 2 * i) }
  case .bf16:
    for i in 0..<count {
      // Round to nearest even on the dropped 16 bits.
      let bits = src[i].bitPattern
      let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16
      dst.storeBytes(of: UInt16(truncatingIfNeeded: rounded), toByteOffset: 2 * i, as: UInt16.self)
    }
  case .q8_0:
    for b in 0..<(count / 32) {
      let x = src + b * 32
      let block = dst + b * 34
      var amax: Float = 0
      for j in 0..<32 { amax = max(amax, abs(x[j])) }
      let d = amax / 127
      let id: Float = d != 0 ? 1 / d : 0
      storeHalf(d, block)
      for j in 0..<32 { block.storeBytes(of: Int8((x[j] * id).rounded()), toByteOffset: 2 + j, as: Int8.self) }
    }
  case .q4_0:
    for b in 0..<(count / 32) {
      let x = src + b * 32
      let block = dst + b * 18
      var amax: Float = 0
      var maxValue: Float = 0
      for j in 0..<32 where abs(x[j]) > amax {
        amax = abs(x[j])
        maxValue = x[j]
      }
      let d = maxValue / -8
      let id: Float = d != 0 ? 1 / d : 0
      storeHalf(d, block)
      for j in 0..<16 {
        let lo = UInt8(min(15, Int8(x[j] * id + 8.5)))
        let hi = UInt8(min(15, Int8(x[j + 16] * id + 8.5)))
        block.storeBytes(of: lo | (hi << 4), toByteOffset: 2 + j, as: UInt8.self)
      }
    }
  case .q4_1:
    for b in 0..<(count / 32) {
      let x = src + b * 32
      let block = dst + b * 20
      var lo = Float.greatestFiniteMagnitude
      var hi = -Float.greatestFiniteMagnitude
      for j in 0..<32 {
        lo = min(lo, x[j])
        hi = max(hi, x[j])
      }
      let d = (hi - lo) / 15
      let id: Float = d != 0 ? 1 / d : 0
      storeHalf(d, block)
      storeHalf(lo, block + 2)
      for j in 0..<16 {
        let a = UInt8(min(15, Int8((x[j] - lo) * id + 0.5)))
        let c = UInt8(min(15, Int8((x[j + 16] - lo) * id + 0.5)))
        block.storeBytes(of: a | (c << 4), toByteOffset: 4 + j, as: UInt8.self)
      }
    }
  case .iq4_nl:
    IQ4NL.quantize(src, dst, count)
  case .q5_0, .q5_1:
    quantizeQ5(type, src, dst, count)
  case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K:
    quantizeK(type, src, dst, count)
  default:
    preconditionFailure("quantizeRow: \(type) not supported")
  }
}

/// Quantizes a whole `[rows, cols]` float matrix into the bytes of a GGUF tensor of `type`.
public func quantizeMatrix(_ type: GGMLType, _ values: [Float], cols: Int) -> [UInt8] {
  precondition(values.count % cols == 0 && cols % type.blockSize == 0)
  let rows = values.count / cols
  let rowBytes = cols / type.blockSize * type.typeSize
  var out = [UInt8](repeating: 0, count: rows * rowBytes)
  values.withUnsafeBufferPointer { src in
    out.withUnsafeMutableBytes { dst in
      for r in 0..<rows {
        quantizeRow(type, src.baseAddress! + r * cols, dst.baseAddress! + r * rowBytes, cols)
      }
    }
  }
  return out
}
