import GGUF

/// Round-to-nearest K-quant encoders. Each sub-block gets the scale (and minimum) that maps its
/// extremes onto the code range; those scales are then quantized against the super-block scales,
/// and the codes are chosen against the scales as stored (after f16 and integer rounding), so the
/// decoder sees exactly what the encoder measured against. Not llama.cpp's error-minimising search:
/// good enough for tests and synthetic models, not for shipping quantized weights.
func quantizeK(_ type: GGMLType, _ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ count: Int) {
  for b in 0..<(count / 256) {
    let x = src + b * 256
    let block = dst + b * type.typeSize
    block.initializeMemory(as: UInt8.self, repeating: 0, count: type.typeSize)
    switch type {
    case .q4_K, .q5_K: quantizeQ45K(type, x, block)
    case .q2_K: quantizeQ2K(x, block)
    case .q3_K, .q6_K: quantizeSymmetricK(type, x, block)
    default: preconditionFailure("quantizeK: \(type) is not a K-quant weight type")
    }
  }
}

@inline(__always) private func storeHalf(_ v: Float, _ p: UnsafeMutableRawPointer, _ offset: Int) -> Float {
  let h = Float16(v)
  p.storeBytes(of: h.bitPattern, toByteOffset: offset, as: UInt16.self)
  return Float(h)
}

@inline(__always) private func code(_ v: Float, _ lo: Int, _ hi: Int) -> Int {
  guard v.isFinite else { return 0 }
  return max(lo, min(hi, Int(v.rounded())))
}

/// Asymmetric sub-blocks: scale = (max - min) / levels and a minimum ≥ 0 subtracted on decode.
/// Returns the float scales and minimums, before they are quantized against d and dmin.
private func asymmetric(
  _ x: UnsafePointer<Float>, subBlocks: Int, size: Int, levels: Float
) -> (scales: [Float], mins: [Float]) {
  var scales = [Float](repeating: 0, count: subBlocks)
  var mins = [Float](repeating: 0, count: subBlocks)
  for s in 0..<subBlocks {
    var lo: Float = 0  // the minimum is clamped at 0: decoding subtracts a non-negative amount
    var hi = -Float.greatestFiniteMagnitude
    for j in 0..<size {
      lo = min(lo, x[s * size + j])
      hi = max(hi, x[s * size + j])
    }
    scales[s] = max(0, hi - lo) / levels
    mins[s] = -lo
  }
  return (scales, mins)
}

private func quantizeQ45K(_ type: GGMLType, _ x: UnsafePointer<Float>, _ block: UnsafeMutableRawPointer) {
  let high = type == .q5_K
  let levels: Float = high ? 31 : 15
  let (scales, mins) = asymmetric(x, subBlocks: 8, size: 32, levels: levels)
  let d = storeHalf(scales.max()! / 63, block, 0)
  let dmin = storeHalf(mins.max()! / 63, block, 2)
  var ls = [UInt8](repeating: 0, count: 8)
  var lm = [UInt8](repeating: 0, count: 8)
  for s in 0..<8 {
    ls[s] = UInt8(code(d > 0 ? scales[s] / d : 0, 0, 63))
    lm[s] = UInt8(code(dmin > 0 ? mins[s] / dmin : 0, 0, 63))
  }
  let packed = block + 4
  for j in 0..<4 {
    packed.storeBytes(of: ls[j] | (ls[j + 4] >> 4) << 6, toByteOffset: j, as: UInt8.self)
    packed.storeBytes(of: lm[j] | (lm[j + 4] >> 4) << 6, toByteOffset: j + 4, as: UInt8.self)
    packed.storeBytes(of: (ls[j + 4] & 0x0F) | (lm[j + 4] & 0x0F) << 4, toByteOffset: j + 8, as: UInt8.self)
  }
  let qh = block + 16
  let qs = block + (high ? 48 : 16)
  for s in 0..<8 {
    let step = d * Float(ls[s])
    let offset = dmin * Float(lm[s])
    for l in 0..<32 {
      let q = UInt8(code(step > 0 ? (x[32 * s + l] + offset) / step : 0, 0, Int(levels)))
      let at = 32 * (s / 2) + l
      let old = qs.load(fromByteOffset: at, as: UInt8.self)
      qs.storeBytes(of: old | (s % 2 == 0 ? q & 0x0F : (q & 0x0F) << 4), toByteOffset: at, as: UInt8.self)
      if high {
        let h = qh.load(fromByteOffset: l, as: UInt8.self)
        qh.storeBytes(of: h | (q >> 4) << UInt8(s), toByteOffset: l, as: UInt8.self)
      }
    }
  }
}

private func quantizeQ2K(_ x: UnsafePointer<Float>, _ block: UnsafeMutableRawPointer) {
  let (scales, mins) = asymmetric(x, subBlocks: 16, size: 16, levels: 3)
  let d = storeHalf(scales.max()! / 15, block, 80)
  let dmin = storeHalf(mins.max()! / 15, block, 82)
  for s in 0..<16 {
    let ls = UInt8(code(d > 0 ? scales[s] / d : 0, 0, 15))
    let lm = UInt8(code(dmin > 0 ? mins[s] / dmin : 0, 0, 15))
    block.storeBytes(of: ls | lm << 4, toByteOffset: s, as: UInt8.self)
    let step = d * Float(ls)
    let offset = dmin * Float(lm)
    for j in 0..<16 {
      let e = 16 * s + j
      let q = UInt8(code(step > 0 ? (x[e] + offset) / step : 0, 0, 3))
      let at = 16 + 32 * (e / 128) + e % 32
      let shift = UInt8(2 * ((e % 128) / 32))
      block.storeBytes(of: block.load(fromByteOffset: at, as: UInt8.self) | q << shift, toByteOffset: at, as: UInt8.self)
    }
  }
}

/// Q3_K and Q6_K: symmetric per-16 scales chosen so each sub-block's signed extreme lands on the most
/// negative code (-4 or -32); the scales are signed integers (6-bit or int8) against one f16 d.
private func quantizeSymmetricK(_ type: GGMLType, _ x: UnsafePointer<Float>, _ block: UnsafeMutableRawPointer) {
  let six = type == .q6_K
  let (qMin, qMax): (Int, Int) = six ? (-32, 31) : (-4, 3)
  let (sMin, sMax): (Int, Int) = six ? (-128, 127) : (-32, 31)
  var scales = [Float](repeating: 0, count: 16)
  for s in 0..<16 {
    var amax: Float = 0
    for j in 0..<16 where abs(x[16 * s + j]) > amax {
      amax = abs(x[16 * s + j])
      scales[s] = x[16 * s + j] / Float(qMin)
    }
  }
  var extreme: Float = 0
  for s in scales where abs(s) > abs(extreme) { extreme = s }
  let d = storeHalf(extreme / Float(sMin), block, six ? 208 : 108)
  for s in 0..<16 {
    let sc = code(d != 0 ? scales[s] / d : 0, sMin, sMax)
    if six {
      block.storeBytes(of: Int8(sc), toByteOffset: 192 + s, as: Int8.self)
    } else {
      // 6-bit value sc + 32: low nibble in byte s % 8 (high half for s >= 8), top 2 bits in byte 8 + s % 4.
      let v = UInt8(sc + 32)
      let at = 96 + s % 8
      let old = block.load(fromByteOffset: at, as: UInt8.self)
      block.storeBytes(of: old | (s < 8 ? v & 0x0F : (v & 0x0F) << 4), toByteOffset: at, as: UInt8.self)
      let hiAt = 96 + 8 + s % 4
      let hiOld = block.load(fromByteOffset: hiAt, as: UInt8.self)
      block.storeBytes(of: hiOld | (v >> 4) << UInt8(2 * (s / 4)), toByteOffset: hiAt, as: UInt8.self)
    }
    let step = d * Float(sc)
    for j in 0..<16 {
      let e = 16 * s + j
      let q = code(step != 0 ? x[e] / step : 0, qMin, qMax) - qMin  // unsigned code
      let half = e / 128
      let quarter = (e % 128) / 32
      let l = e % 32
      func or(_ at: Int, _ bits: UInt8) {
        block.storeBytes(of: block.load(fromByteOffset: at, as: UInt8.self) | bits, toByteOffset: at, as: UInt8.self)
      }
      if six {
        let low = UInt8(q & 0x0F)
        or(64 * half + 32 * (quarter % 2) + l, quarter < 2 ? low : low << 4)
        or(128 + 32 * half + l, UInt8(q >> 4) << UInt8(2 * quarter))
      } else {
        or(32 + 32 * half + l, UInt8(q & 3) << UInt8(2 * quarter))
        if q >= 4 { or(l, UInt8(1) << UInt8(4 * half + quarter)) }
      }
    }
  }
}
