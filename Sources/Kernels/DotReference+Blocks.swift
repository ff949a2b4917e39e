import GGUF

/// Element `i` of a Q5 or K-quant row, decoded straight from the layout by index arithmetic (see
/// `Q5Block` and `KQuant` for the layouts). Written independently of the block loops in
/// `dequantizeQ5`/`dequantizeK`, so the two check each other.
func referenceElement(_ type: GGMLType, _ row: UnsafeRawPointer, _ i: Int) -> Float {
  func u8(_ p: UnsafeRawPointer, _ offset: Int) -> UInt8 { p.load(fromByteOffset: offset, as: UInt8.self) }
  switch type {
  case .q5_0, .q5_1:
    let block = row + (i / 32) * type.typeSize
    let j = i % 32
    let (qhOffset, qsOffset) = type == .q5_1 ? (4, 8) : (2, 6)
    let byte = u8(block, qsOffset + j % 16)
    let nibble = j < 16 ? byte & 0x0F : byte >> 4
    let bit = UInt8((block.loadUnaligned(fromByteOffset: qhOffset, as: UInt32.self) >> UInt32(j)) & 1)
    let code = Float(nibble | bit << 4)
    let d = loadHalf(block, 0)
    return type == .q5_1 ? d * code + loadHalf(block, 2) : d * (code - 16)
  case .q4_K, .q5_K:
    let block = row + (i / 256) * type.typeSize
    let e = i % 256
    let sub = e / 32  // eight sub-blocks of 32
    let l = e % 32
    let qsOffset = type == .q5_K ? 48 : 16
    let byte = u8(block, qsOffset + 32 * (sub / 2) + l)
    var code = sub % 2 == 0 ? byte & 0x0F : byte >> 4
    if type == .q5_K { code |= ((u8(block, 16 + l) >> UInt8(sub)) & 1) << 4 }
    let (scale, minimum) = KQuant.scaleMin(block + 4, sub)
    return loadHalf(block, 0) * Float(scale) * Float(code) - loadHalf(block, 2) * Float(minimum)
  case .q6_K:
    let block = row + (i / 256) * 210
    let e = i % 256
    let half = e / 128
    let quarter = (e % 128) / 32
    let l = e % 32
    let byte = u8(block, 64 * half + 32 * (quarter % 2) + l)
    let low = quarter < 2 ? byte & 0x0F : byte >> 4
    let high = (u8(block, 128 + 32 * half + l) >> UInt8(2 * quarter)) & 3
    let scale = block.load(fromByteOffset: 192 + e / 16, as: Int8.self)
    return loadHalf(block, 208) * Float(scale) * Float(Int(low | high << 4) - 32)
  case .q2_K, .q3_K:
    let block = row + (i / 256) * type.typeSize
    let e = i % 256
    let half = e / 128
    let shift = (e % 128) / 32
    let l = e % 32
    let qsOffset = type == .q2_K ? 16 : 32
    let q = Int((u8(block, qsOffset + 32 * half + l) >> UInt8(2 * shift)) & 3)
    if type == .q2_K {
      let sc = u8(block, e / 16)
      return loadHalf(block, 80) * Float(sc & 0x0F) * Float(q) - loadHalf(block, 82) * Float(sc >> 4)
    }
    let hbit = (u8(block, l) >> UInt8(4 * half + shift)) & 1
    return loadHalf(block, 108) * Float(KQuant.q3Scale(block + 96, e / 16)) * Float(q - (hbit == 1 ? 0 : 4))
  case .q8_K:
    let block = row + (i / 256) * 292
    return block.loadUnaligned(as: Float.self) * Float(block.load(fromByteOffset: 4 + i % 256, as: Int8.self))
  default:
    preconditionFailure("referenceElement: \(type) has no block decoder here")
  }
}
