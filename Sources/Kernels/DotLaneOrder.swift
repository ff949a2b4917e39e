import GGUF

/// One weight row · one activation row with the float arithmetic of llama.cpp's x86 kernels for the
/// weight types of Gemma 3 — the reference twin of the packed SIMD kernels (`pg_gemm_packed`), which
/// must equal it bit for bit.
///
/// Integer sums are exact in any order; what fixes the float result is which integer sums are
/// converted to float, how they are scaled and accumulated, and how the accumulators are folded:
/// - Q5_0, Q8_0 (× Q8_0): eight float sums, sum j taking the integer dot of elements 4j..4j+3 of each
///   block times `d_w·d_a` (one fused multiply-add), folded ((4+0)+(6+2))+((5+1)+(7+3)).
/// - Q4_1 (× Q8_1, SmolLM2's weights): the same eight sums of code dots, plus one float sum of the
///   minimum terms `fma(m_w, s_a, sum)` per block, added after the fold.
/// - Q6_K (× Q8_K): eight float sums per row; integer partial k < 4 covers elements 4k..4k+3 of every
///   even 16-element sub-block, k ≥ 4 elements 4(k−4).. of every odd one, each times its sub-block
///   scale, minus 32·(sc[2k]·bsum[2k] + sc[2k+1]·bsum[2k+1]); scaled per super-block, folded as above.
///   `batched` (its tiled kernel): one sum, `fma(Float(whole integer sum) · d_w, d_a, sum)` per super-block.
/// - Q4_K (× Q8_K): one float sum of scaled code dots, one of minimum terms, subtracted at the end;
///   a multiply-add per super-block, or (`batched`, llama.cpp's four-row kernel) per pair of
///   32-element sub-blocks.
/// - Q5_K (× Q8_K): per row eight integer partials per super-block, partial k summing over the four
///   64-element chunks the sub-block scale times the dots of elements 4k..4k+3 of the chunk's low and
///   high 32, each scaled by `d_a·d_w` into its own float sum and folded as above, then plus one float
///   sum `fma(−d_a·dmin_w, Σ min·bsum, sum)`. `batched` (its tiled kernel): per super-block the
///   whole scaled integer sum S and minimum sum M, `r = fma(−dmin_w, M, S·d_w)`, `fma(r, d_a, sum)`.
/// - Q4_0, IQ4_NL (× Q8_0, repacked by llama.cpp on x86 whatever the batch): one float sum,
///   `fma(Float(whole integer dot of the block), d_w·d_a, sum)` per block.
/// Returns nil for other weight types.
public func vecDotLaneOrder(
  _ type: GGMLType, _ row: UnsafeRawPointer, _ act: UnsafeRawPointer, _ count: Int, batched: Bool = false
) -> Float? {
  switch type {
  case .q5_0, .q8_0, .q4_1: return laneDotQ0(type, row, act, count / 32)
  case .q4_0, .iq4_nl: return laneDotBlocks(type, row, act, count / 32)
  case .q6_K: return laneDotQ6_K(row, act, count / 256, batched: batched)
  case .q4_K: return laneDotQ4_K(row, act, count / 256, pairedSums: batched)
  case .q5_K: return laneDotQ5_K(row, act, count / 256, batched: batched)
  default: return nil
  }
}

/// llama.cpp's horizontal sum of eight float lanes.
@inline(__always) func foldLanes(_ l: [Float]) -> Float {
  ((l[4] + l[0]) + (l[6] + l[2])) + ((l[5] + l[1]) + (l[7] + l[3]))
}

private func laneDotQ0(_ type: GGMLType, _ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int) -> Float {
  var lanes = [Float](repeating: 0, count: 8)
  var minimums: Float = 0  // Q4_1
  // Q4_1 activations (Q8_1) carry a second f16, the block's scaled sum, before their codes.
  let actBlock = type == .q4_1 ? 36 : 34
  let actCodes = type == .q4_1 ? 4 : 2
  for b in 0..<blocks {
    let wb = w + b * type.typeSize
    let ab = a + b * actBlock
    let scale = loadHalf(wb, 0) * loadHalf(ab, 0)
    let qh = type == .q5_0 ? wb.loadUnaligned(fromByteOffset: 2, as: UInt32.self) : 0
    for j in 0..<8 {
      var partial: Int32 = 0
      for e in (4 * j)..<(4 * j + 4) {
        let code: Int32
        switch type {
        case .q8_0:
          code = Int32(wb.load(fromByteOffset: 2 + e, as: Int8.self))
        case .q4_1:
          let byte = wb.load(fromByteOffset: 4 + e % 16, as: UInt8.self)
          code = Int32(e < 16 ? byte & 0x0F : byte >> 4)
        default:
          let byte = wb.load(fromByteOffset: 6 + e % 16, as: UInt8.self)
          let nibble = e < 16 ? byte & 0x0F : byte >> 4
          code = (Int32(nibble) | Int32((qh >> UInt32(e)) & 1) << 4) - 16
        }
        partial &+= code &* Int32(ab.load(fromByteOffset: actCodes + e, as: Int8.self))
      }
      lanes[j] = lanes[j].addingProduct(scale, Float(partial))
    }
    if type == .q4_1 { minimums = minimums.addingProduct(loadHalf(wb, 2), loadHalf(ab, 2)) }
  }
  return type == .q4_1 ? foldLanes(lanes) + minimums : foldLanes(lanes)
}

private func laneDotBlocks(_ type: GGMLType, _ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int) -> Float {
  var sum: Float = 0
  for b in 0..<blocks {
    let wb = w + b * 18
    let ab = a + b * 34
    var dot: Int32 = 0
    for e in 0..<32 {
      let byte = wb.load(fromByteOffset: 2 + e % 16, as: UInt8.self)
      let nibble = Int(e < 16 ? byte & 0x0F : byte >> 4)
      let code = type == .iq4_nl ? Int32(IQ4NL.values[nibble]) : Int32(nibble) - 8
      dot &+= code &* Int32(ab.load(fromByteOffset: 2 + e, as: Int8.self))
    }
    sum = sum.addingProduct(Float(dot), loadHalf(wb, 0) * loadHalf(ab, 0))
  }
  return sum
}

/// Q6_K code of element `e` of a super-block as stored plus 32 (0...63).
@inline(__always) private func q6Code(_ wb: UnsafeRawPointer, _ e: Int) -> Int32 {
  let half = e / 128
  let quarter = (e % 128) / 32
  let l = e % 32
  let byte = wb.load(fromByteOffset: 64 * half + 32 * (quarter % 2) + l, as: UInt8.self)
  let low = quarter < 2 ? byte & 0x0F : byte >> 4
  let high = (wb.load(fromByteOffset: 128 + 32 * half + l, as: UInt8.self) >> UInt8(2 * quarter)) & 3
  return Int32(low | high << 4)
}

@inline(__always) private func bsum16(_ ab: UnsafeRawPointer, _ i: Int) -> Int32 {
  Int32(ab.loadUnaligned(fromByteOffset: 260 + 2 * i, as: Int16.self))
}

private func laneDotQ6_K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int, batched: Bool) -> Float {
  var lanes = [Float](repeating: 0, count: 8)
  var single: Float = 0
  for b in 0..<blocks {
    let wb = w + b * 210
    let ab = a + b * 292
    let y = (ab + 4).assumingMemoryBound(to: Int8.self)
    func sc(_ s: Int) -> Int32 { Int32(wb.load(fromByteOffset: 192 + s, as: Int8.self)) }
    let dw = loadHalf(wb, 208)
    let da = ab.loadUnaligned(as: Float.self)
    let scale = dw * da
    var whole: Int32 = 0
    for k in 0..<8 {
      var partial: Int32 = 0
      for sb in stride(from: k / 4, to: 16, by: 2) {
        var dot: Int32 = 0
        for i in 0..<4 {
          let e = 16 * sb + 4 * (k % 4) + i
          dot &+= q6Code(wb, e) &* Int32(y[e])
        }
        partial &+= sc(sb) &* dot
      }
      partial &-= 32 &* (sc(2 * k) &* bsum16(ab, 2 * k) &+ sc(2 * k + 1) &* bsum16(ab, 2 * k + 1))
      whole &+= partial
      lanes[k] = lanes[k].addingProduct(scale, Float(partial))
    }
    single = single.addingProduct(Float(whole) * dw, da)
  }
  return batched ? single : foldLanes(lanes)
}

private func laneDotQ4_K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int, pairedSums: Bool) -> Float {
  var sum: Float = 0
  var minSum: Float = 0
  for b in 0..<blocks {
    let wb = w + b * 144
    let ab = a + b * 292
    let y = (ab + 4).assumingMemoryBound(to: Int8.self)
    let da = ab.loadUnaligned(as: Float.self)
    let scale = loadHalf(wb, 0) * da
    let minScale = loadHalf(wb, 2) * da
    var blockDot: Int32 = 0
    var blockMin: Int32 = 0
    for pair in 0..<4 {
      let (s0, m0) = KQuant.scaleMin(wb + 4, 2 * pair)
      let (s1, m1) = KQuant.scaleMin(wb + 4, 2 * pair + 1)
      var lo: Int32 = 0
      var hi: Int32 = 0
      for l in 0..<32 {
        let byte = wb.load(fromByteOffset: 16 + 32 * pair + l, as: UInt8.self)
        lo &+= Int32(byte & 0x0F) &* Int32(y[64 * pair + l])
        hi &+= Int32(byte >> 4) &* Int32(y[64 * pair + 32 + l])
      }
      let dot = lo &* Int32(s0) &+ hi &* Int32(s1)
      let mins =
        Int32(m0) &* (bsum16(ab, 4 * pair) &+ bsum16(ab, 4 * pair + 1))
        &+ Int32(m1) &* (bsum16(ab, 4 * pair + 2) &+ bsum16(ab, 4 * pair + 3))
      if pairedSums {
        sum = sum.addingProduct(Float(dot), scale)
        minSum = minSum.addingProduct(Float(mins), minScale)
      } else {
        blockDot &+= dot
        blockMin &+= mins
      }
    }
    if !pairedSums {
      sum = sum.addingProduct(Float(blockDot), scale)
      minSum = minSum.addingProduct(Float(blockMin), minScale)
    }
  }
  return sum - minSum
}

/// Q5_K code of element `e` (0..<256) of a super-block: nibble plus fifth bit, 0...31.
@inline(__always) private func q5KCode(_ wb: UnsafeRawPointer, _ e: Int) -> Int32 {
  let chunk = e / 64
  let l = e % 32
  let high = (e % 64) >= 32
  let byte = wb.load(fromByteOffset: 48 + 32 * chunk + l, as: UInt8.self)
  let nibble = high ? byte >> 4 : byte & 0x0F
  let bit = (wb.load(fromByteOffset: 16 + l, as: UInt8.self) >> UInt8(2 * chunk + (high ? 1 : 0))) & 1
  return Int32(nibble | bit << 4)
}

private func laneDotQ5_K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int, batched: Bool) -> Float {
  var lanes = [Float](repeating: 0, count: 8)
  var minimums: Float = 0
  var single: Float = 0
  for b in 0..<blocks {
    let wb = w + b * 176
    let ab = a + b * 292
    let y = (ab + 4).assumingMemoryBound(to: Int8.self)
    let dw = loadHalf(wb, 0)
    let dminw = loadHalf(wb, 2)
    let da = ab.loadUnaligned(as: Float.self)
    var whole: Int32 = 0
    for k in 0..<8 {
      var partial: Int32 = 0
      for chunk in 0..<4 {
        for half in 0..<2 {
          let (scale, _) = KQuant.scaleMin(wb + 4, 2 * chunk + half)
          var dot: Int32 = 0
          for i in 0..<4 {
            let e = 64 * chunk + 32 * half + 4 * k + i
            dot &+= q5KCode(wb, e) &* Int32(y[e])
          }
          partial &+= Int32(scale) &* dot
        }
      }
      whole &+= partial
      lanes[k] = lanes[k].addingProduct(da * dw, Float(partial))
    }
    var mins: Int32 = 0
    for s in 0..<8 { mins &+= Int32(KQuant.scaleMin(wb + 4, s).1) &* (bsum16(ab, 2 * s) &+ bsum16(ab, 2 * s + 1)) }
    minimums = minimums.addingProduct(-(da * dminw), Float(mins))
    single = single.addingProduct((Float(whole) * dw).addingProduct(-dminw, Float(mins)), da)
  }
  return batched ? single : foldLanes(lanes) + minimums
}
