import GGUF

/// ggml's "K-quants": 256-element super-blocks split into sub-blocks of 16 or 32 whose scales (and
/// minimums) are themselves quantized against one or two f16 super-block scales. Layouts, byte for
/// byte (all codes unsigned unless noted):
///
///   Q2_K (84 B):  u8 scales[16] (lo nibble scale, hi nibble min, per 16), u8 qs[64] (2-bit), f16 d, f16 dmin
///                 x = d * sc * q - dmin * m
///   Q3_K (110 B): u8 hmask[32] (third bit, set = no offset), u8 qs[64] (low 2 bits), u8 scales[12]
///                 (16 6-bit scales stored +32), f16 d;       x = d * (sc - 32) * (q - 4·!hbit)
///   Q4_K (144 B): f16 d, f16 dmin, u8 scales[12] (8 6-bit scales + 8 6-bit mins, per 32), u8 qs[128]
///                 x = d * sc * q - dmin * m
///   Q5_K (176 B): as Q4_K plus u8 qh[32] (fifth bits) before qs;  x = d * sc * q - dmin * m
///   Q6_K (210 B): u8 ql[128] (low nibbles), u8 qh[64] (high 2 bits), i8 scales[16] (per 16), f16 d
///                 x = d * sc * (q - 32)
///   Q8_K (292 B, activations only): f32 d, i8 qs[256], i16 bsums[16] (sum of each 16 codes)
///
/// Element order inside a super-block: Q4_K/Q5_K walk 64-element chunks, the low nibbles of 32 bytes
/// first, then their high nibbles. Q2_K/Q3_K walk two 128-element halves, each reading the same 32
/// bytes four times at bit shifts 0, 2, 4, 6. Q6_K walks two 128-element halves, each 64 bytes of
/// `ql` (low nibbles of bytes 0..<32, of 32..<64, then high nibbles of the same) and 32 bytes of `qh`
/// (bit pairs 0, 2, 4, 6).
enum KQuant {
  /// Scale and minimum of sub-block `j` (0..<8) from Q4_K/Q5_K's 12 packed bytes: sub-blocks 0..<4
  /// keep 6 bits in bytes j and j+4; sub-blocks 4..<8 keep their low 4 bits in byte j+4's nibbles
  /// and their top 2 bits in the spare top bits of bytes j-4 and j.
  @inline(__always) static func scaleMin(_ s: UnsafeRawPointer, _ j: Int) -> (scale: UInt8, min: UInt8) {
    func byte(_ i: Int) -> UInt8 { s.load(fromByteOffset: i, as: UInt8.self) }
    if j < 4 { return (byte(j) & 63, byte(j + 4) & 63) }
    return ((byte(j + 4) & 0x0F) | (byte(j - 4) >> 6) << 4, (byte(j + 4) >> 4) | (byte(j) >> 6) << 4)
  }

  /// Q3_K's 16 signed sub-block scales (-32...31) from its 12 packed bytes: scale i keeps its low
  /// nibble in byte i % 8 (low half for i < 8, high half otherwise) and its top 2 bits in byte
  /// 8 + i % 4 at bit 2 * (i / 4).
  @inline(__always) static func q3Scale(_ s: UnsafeRawPointer, _ i: Int) -> Int32 {
    let lowByte = s.load(fromByteOffset: i % 8, as: UInt8.self)
    let low = i < 8 ? lowByte & 0x0F : lowByte >> 4
    let high = (s.load(fromByteOffset: 8 + i % 4, as: UInt8.self) >> UInt8(2 * (i / 4))) & 3
    return Int32(low | high << 4) - 32
  }
}

/// Expands K-quant rows (`count` a multiple of 256).
func dequantizeK(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
  for b in 0..<(count / 256) {
    let block = src + b * type.typeSize
    let y = dst + b * 256
    switch type {
    case .q4_K, .q5_K:
      let d = loadHalf(block, 0)
      let dmin = loadHalf(block, 2)
      let scales = block + 4
      let hasHigh = type == .q5_K
      let qh = block + 16
      let qs = block + (hasHigh ? 48 : 16)
      for chunk in 0..<4 {
        let (s0, m0) = KQuant.scaleMin(scales, 2 * chunk)
        let (s1, m1) = KQuant.scaleMin(scales, 2 * chunk + 1)
        for l in 0..<32 {
          let byte = qs.load(fromByteOffset: 32 * chunk + l, as: UInt8.self)
          var lo = byte & 0x0F
          var hi = byte >> 4
          if hasHigh {
            let h = qh.load(fromByteOffset: l, as: UInt8.self)
            lo |= ((h >> UInt8(2 * chunk)) & 1) << 4
            hi |= ((h >> UInt8(2 * chunk + 1)) & 1) << 4
          }
          y[64 * chunk + l] = d * Float(s0) * Float(lo) - dmin * Float(m0)
          y[64 * chunk + 32 + l] = d * Float(s1) * Float(hi) - dmin * Float(m1)
        }
      }
    case .q6_K:
      let d = loadHalf(block, 208)
      for half in 0..<2 {
        let ql = block + 64 * half
        let qh = block + 128 + 32 * half
        let sc = (block + 192 + 8 * half).assumingMemoryBound(to: Int8.self)
        let out = y + 128 * half
        for l in 0..<32 {
          let a = ql.load(fromByteOffset: l, as: UInt8.self)
          let b = ql.load(fromByteOffset: l + 32, as: UInt8.self)
          let h = qh.load(fromByteOffset: l, as: UInt8.self)
          let q0 = Int32((a & 0x0F) | (h & 3) << 4) - 32
          let q1 = Int32((b & 0x0F) | ((h >> 2) & 3) << 4) - 32
          let q2 = Int32((a >> 4) | ((h >> 4) & 3) << 4) - 32
          let q3 = Int32((b >> 4) | ((h >> 6) & 3) << 4) - 32
          let s = l / 16
          out[l] = d * Float(sc[s]) * Float(q0)
          out[l + 32] = d * Float(sc[s + 2]) * Float(q1)
          out[l + 64] = d * Float(sc[s + 4]) * Float(q2)
          out[l + 96] = d * Float(sc[s + 6]) * Float(q3)
        }
      }
    case .q2_K:
      let scales = block
      let d = loadHalf(block, 80)
      let dmin = loadHalf(block, 82)
      for half in 0..<2 {
        for shift in 0..<4 {
          for l in 0..<32 {
            let sub = 8 * half + 2 * shift + l / 16
            let sc = scales.load(fromByteOffset: sub, as: UInt8.self)
            let q = (block.load(fromByteOffset: 16 + 32 * half + l, as: UInt8.self) >> UInt8(2 * shift)) & 3
            y[128 * half + 32 * shift + l] = d * Float(sc & 0x0F) * Float(q) - dmin * Float(sc >> 4)
          }
        }
      }
    case .q3_K:
      let d = loadHalf(block, 108)
      let scales = block + 96
      for half in 0..<2 {
        for shift in 0..<4 {
          let mask = UInt8(1) << UInt8(4 * half + shift)
          for l in 0..<32 {
            let sub = 8 * half + 2 * shift + l / 16
            let low = (block.load(fromByteOffset: 32 + 32 * half + l, as: UInt8.self) >> UInt8(2 * shift)) & 3
            let offset: Int32 = block.load(fromByteOffset: l, as: UInt8.self) & mask != 0 ? 0 : 4
            y[128 * half + 32 * shift + l] = d * Float(KQuant.q3Scale(scales, sub)) * Float(Int32(low) - offset)
          }
        }
      }
    case .q8_K:
      let d = block.loadUnaligned(as: Float.self)
      for j in 0..<256 { y[j] = d * Float(block.load(fromByteOffset: 4 + j, as: Int8.self)) }
    default:
      preconditionFailure("dequantizeK: \(type) is not a K-quant")
    }
  }
}
