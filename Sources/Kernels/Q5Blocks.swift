import GGUF

/// Q5_0 and Q5_1: 32 elements per block, 5-bit codes split into a nibble array and one 32-bit word
/// of fifth bits (bit j belongs to element j).
///   Q5_0 (22 B): f16 d, u32 qh, 16 B nibbles;        x[j] = d * (code(j) - 16)
///   Q5_1 (24 B): f16 d, f16 m, u32 qh, 16 B nibbles; x[j] = d * code(j) + m
/// where code(j) = lo(qs[j]) | bit(j) << 4 and code(j+16) = hi(qs[j]) | bit(j+16) << 4 for j < 16.
enum Q5Block {
  /// Byte offsets of the fifth-bit word and the nibbles.
  @inline(__always) static func offsets(_ type: GGMLType) -> (qh: Int, qs: Int) {
    type == .q5_1 ? (4, 8) : (2, 6)
  }
}

func dequantizeQ5(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
  let (qhOffset, qsOffset) = Q5Block.offsets(type)
  for b in 0..<(count / 32) {
    let block = src + b * type.typeSize
    let d = loadHalf(block, 0)
    let m: Float = type == .q5_1 ? loadHalf(block, 2) : 0
    let offset: Int32 = type == .q5_1 ? 0 : 16
    let qh = block.loadUnaligned(fromByteOffset: qhOffset, as: UInt32.self)
    let out = dst + b * 32
    for j in 0..<16 {
      let byte = block.load(fromByteOffset: qsOffset + j, as: UInt8.self)
      let lo = Int32(byte & 0x0F) | Int32((qh >> UInt32(j)) & 1) << 4
      let hi = Int32(byte >> 4) | Int32((qh >> UInt32(j + 16)) & 1) << 4
      // Q5_0 as d * (c - 16), not d * c - 16d: the same rounding as the per-element reference.
      out[j] = d * Float(lo - offset) + m
      out[j + 16] = d * Float(hi - offset) + m
    }
  }
}

/// Round-to-nearest Q5_0 (scale from the signed extreme, like Q4_0) and Q5_1 (min and max on codes).
func quantizeQ5(_ type: GGMLType, _ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ count: Int) {
  let (qhOffset, qsOffset) = Q5Block.offsets(type)
  for b in 0..<(count / 32) {
    let x = src + b * 32
    let block = dst + b * type.typeSize
    var codes = [UInt8](repeating: 0, count: 32)
    if type == .q5_0 {
      var amax: Float = 0
      var extreme: Float = 0
      for j in 0..<32 where abs(x[j]) > amax {
        amax = abs(x[j])
        extreme = x[j]
      }
      // The extreme lands on code 0 (d < 0 when it is positive); the other side clamps at 31.
      let d = extreme / -16
      let id: Float = d != 0 ? 1 / d : 0
      block.storeBytes(of: Float16(d).bitPattern, as: UInt16.self)
      for j in 0..<32 { codes[j] = UInt8(max(0, min(31, Int((x[j] * id + 16.5).rounded(.down))))) }
    } else {
      var lo = Float.greatestFiniteMagnitude
      var hi = -Float.greatestFiniteMagnitude
      for j in 0..<32 {
        lo = min(lo, x[j])
        hi = max(hi, x[j])
      }
      let d = (hi - lo) / 31
      let id: Float = d != 0 ? 1 / d : 0
      block.storeBytes(of: Float16(d).bitPattern, as: UInt16.self)
      block.storeBytes(of: Float16(lo).bitPattern, toByteOffset: 2, as: UInt16.self)
      for j in 0..<32 { codes[j] = UInt8(max(0, min(31, Int(((x[j] - lo) * id).rounded())))) }
    }
    var qh: UInt32 = 0
    for j in 0..<32 { qh |= UInt32(codes[j] >> 4) << UInt32(j) }
    block.storeBytes(of: qh, toByteOffset: qhOffset, as: UInt32.self)
    for j in 0..<16 {
      block.storeBytes(of: (codes[j] & 0x0F) | (codes[j + 16] & 0x0F) << 4, toByteOffset: qsOffset + j, as: UInt8.self)
    }
  }
}

/// Σ (code(j) - offset) · y[j] over one block's 32 codes, in Int32. A plain loop over the 16 bytes
/// that LLVM vectorises (variable per-lane shifts pick the fifth bits).
@inline(__always)
func q5BlockDot(_ wb: UnsafeRawPointer, qh qhOffset: Int, qs qsOffset: Int, _ y: UnsafePointer<Int8>, offset: Int32)
  -> Int32
{
  let qh = wb.loadUnaligned(fromByteOffset: qhOffset, as: UInt32.self)
  let qs = (wb + qsOffset).assumingMemoryBound(to: UInt8.self)
  var sum: Int32 = 0
  for j in 0..<16 {
    let lo = Int32(qs[j] & 0x0F) | Int32((qh >> UInt32(j)) & 1) << 4
    let hi = Int32(qs[j] >> 4) | Int32((qh >> UInt32(j + 16)) & 1) << 4
    sum &+= (lo &- offset) &* Int32(y[j]) &+ (hi &- offset) &* Int32(y[j + 16])
  }
  return sum
}

/// Q5_0 weights · Q8_0 activations: one integer dot per block, `d_w * d_a * Σ (c - 16) * y`.
@inline(__always)
func vecDotQ5_0Q8_0(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int) -> Float {
  var sum: Float = 0
  for b in 0..<blocks {
    let wb = w + b * 22
    let ab = a + b * 34
    let y = (ab + 2).assumingMemoryBound(to: Int8.self)
    sum += loadHalf(wb, 0) * loadHalf(ab, 0) * Float(q5BlockDot(wb, qh: 2, qs: 6, y, offset: 16))
  }
  return sum
}

/// Q5_1 weights · Q8_1 activations: `d_w * d_a * Σ c * y + m_w * (d_a * Σ y)`, the last factor being
/// the sum Q8_1 stores.
@inline(__always)
func vecDotQ5_1Q8_1(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int) -> Float {
  var sum: Float = 0
  for b in 0..<blocks {
    let wb = w + b * 24
    let ab = a + b * 36
    let y = (ab + 4).assumingMemoryBound(to: Int8.self)
    sum += loadHalf(wb, 0) * loadHalf(ab, 0) * Float(q5BlockDot(wb, qh: 4, qs: 8, y, offset: 0))
      + loadHalf(wb, 2) * loadHalf(ab, 2)
  }
  return sum
}
