import GGUF

// K-quant weights · Q8_K activations. Per super-block: integer dots per sub-block, multiplied by the
// sub-block's integer scale in Int32, one float multiply per super-block; minimums use Q8_K's per-16
// sums, so no per-element subtraction is needed. The inner loops are plain loops over bytes with
// Int32 accumulators, which LLVM vectorises (masking shifts `&>>` where the count varies: Swift's
// `>>` checks for oversized counts per element, which blocked vectorisation of Q3_K) (Swift SIMD-type code was ~100× slower here: its
// element-wise lane access and conversions were not inlined, see KERNEL-NOTES).

@inline(__always) private func bsum(_ ab: UnsafeRawPointer, _ i: Int) -> Int32 {
  Int32(ab.loadUnaligned(fromByteOffset: 260 + 2 * i, as: Int16.self))
}

@inline(__always)
func vecDotQ4_KQ8_K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int) -> Float {
  var sum: Float = 0
  for b in 0..<blocks {
    let wb = w + b * 144
    let ab = a + b * 292
    let qs = (wb + 16).assumingMemoryBound(to: UInt8.self)
    let y = (ab + 4).assumingMemoryBound(to: Int8.self)
    var sumi: Int32 = 0
    var mins: Int32 = 0
    for chunk in 0..<4 {
      let (s0, m0) = KQuant.scaleMin(wb + 4, 2 * chunk)
      let (s1, m1) = KQuant.scaleMin(wb + 4, 2 * chunk + 1)
      let q = qs + 32 * chunk
      let y0 = y + 64 * chunk
      var lo: Int32 = 0
      var hi: Int32 = 0
      for l in 0..<32 {
        lo &+= Int32(q[l] & 0x0F) &* Int32(y0[l])
        hi &+= Int32(q[l] >> 4) &* Int32(y0[l + 32])
      }
      sumi &+= lo &* Int32(s0) &+ hi &* Int32(s1)
      mins &+= Int32(m0) &* (bsum(ab, 4 * chunk) &+ bsum(ab, 4 * chunk + 1))
      mins &+= Int32(m1) &* (bsum(ab, 4 * chunk + 2) &+ bsum(ab, 4 * chunk + 3))
    }
    let da = ab.loadUnaligned(as: Float.self)
    sum += loadHalf(wb, 0) * da * Float(sumi) - loadHalf(wb, 2) * da * Float(mins)
  }
  return sum
}

@inline(__always)
func vecDotQ5_KQ8_K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int) -> Float {
  var sum: Float = 0
  for b in 0..<blocks {
    let wb = w + b * 176
    let ab = a + b * 292
    let qh = (wb + 16).assumingMemoryBound(to: UInt8.self)
    let qs = (wb + 48).assumingMemoryBound(to: UInt8.self)
    let y = (ab + 4).assumingMemoryBound(to: Int8.self)
    var sumi: Int32 = 0
    var mins: Int32 = 0
    for chunk in 0..<4 {
      let (s0, m0) = KQuant.scaleMin(wb + 4, 2 * chunk)
      let (s1, m1) = KQuant.scaleMin(wb + 4, 2 * chunk + 1)
      let q = qs + 32 * chunk
      let y0 = y + 64 * chunk
      let shift = UInt8(2 * chunk)
      var lo: Int32 = 0
      var hi: Int32 = 0
      for l in 0..<32 {
        let h = qh[l] &>> shift
        lo &+= Int32((q[l] & 0x0F) | (h & 1) << 4) &* Int32(y0[l])
        hi &+= Int32((q[l] >> 4) | (h & 2) << 3) &* Int32(y0[l + 32])
      }
      sumi &+= lo &* Int32(s0) &+ hi &* Int32(s1)
      mins &+= Int32(m0) &* (bsum(ab, 4 * chunk) &+ bsum(ab, 4 * chunk + 1))
      mins &+= Int32(m1) &* (bsum(ab, 4 * chunk + 2) &+ bsum(ab, 4 * chunk + 3))
    }
    let da = ab.loadUnaligned(as: Float.self)
    sum += loadHalf(wb, 0) * da * Float(sumi) - loadHalf(wb, 2) * da * Float(mins)
  }
  return sum
}

@inline(__always)
func vecDotQ6_KQ8_K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int) -> Float {
  var sum: Float = 0
  for b in 0..<blocks {
    let wb = w + b * 210
    let ab = a + b * 292
    var sumi: Int32 = 0
    for half in 0..<2 {
      let ql = (wb + 64 * half).assumingMemoryBound(to: UInt8.self)
      let qh = (wb + 128 + 32 * half).assumingMemoryBound(to: UInt8.self)
      let sc = (wb + 192 + 8 * half).assumingMemoryBound(to: Int8.self)
      let y = (ab + 4 + 128 * half).assumingMemoryBound(to: Int8.self)
      // Two runs of 16 so each run's four scales are loop-invariant.
      for run in 0..<2 {
        var s0: Int32 = 0
        var s1: Int32 = 0
        var s2: Int32 = 0
        var s3: Int32 = 0
        for l in (16 * run)..<(16 * run + 16) {
          let h = qh[l]
          s0 &+= (Int32((ql[l] & 0x0F) | (h & 3) << 4) &- 32) &* Int32(y[l])
          s1 &+= (Int32((ql[l + 32] & 0x0F) | ((h >> 2) & 3) << 4) &- 32) &* Int32(y[l + 32])
          s2 &+= (Int32((ql[l] >> 4) | ((h >> 4) & 3) << 4) &- 32) &* Int32(y[l + 64])
          s3 &+= (Int32((ql[l + 32] >> 4) | ((h >> 6) & 3) << 4) &- 32) &* Int32(y[l + 96])
        }
        sumi &+= s0 &* Int32(sc[run]) &+ s1 &* Int32(sc[run + 2]) &+ s2 &* Int32(sc[run + 4])
          &+ s3 &* Int32(sc[run + 6])
      }
    }
    sum += loadHalf(wb, 208) * ab.loadUnaligned(as: Float.self) * Float(sumi)
  }
  return sum
}

@inline(__always)
func vecDotQ2_KQ8_K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int) -> Float {
  var sum: Float = 0
  for b in 0..<blocks {
    let wb = w + b * 84
    let ab = a + b * 292
    let scales = wb.assumingMemoryBound(to: UInt8.self)
    var mins: Int32 = 0
    for i in 0..<16 { mins &+= Int32(scales[i] >> 4) &* bsum(ab, i) }
    var sumi: Int32 = 0
    for half in 0..<2 {
      let q = (wb + 16 + 32 * half).assumingMemoryBound(to: UInt8.self)
      for shift in 0..<4 {
        let y = (ab + 4 + 128 * half + 32 * shift).assumingMemoryBound(to: Int8.self)
        let bits = UInt8(2 * shift)
        var s0: Int32 = 0
        var s1: Int32 = 0
        for l in 0..<16 {
          s0 &+= Int32((q[l] &>> bits) & 3) &* Int32(y[l])
          s1 &+= Int32((q[l + 16] &>> bits) & 3) &* Int32(y[l + 16])
        }
        let sub = 8 * half + 2 * shift
        sumi &+= s0 &* Int32(scales[sub] & 0x0F) &+ s1 &* Int32(scales[sub + 1] & 0x0F)
      }
    }
    let da = ab.loadUnaligned(as: Float.self)
    sum += loadHalf(wb, 80) * da * Float(sumi) - loadHalf(wb, 82) * da * Float(mins)
  }
  return sum
}

@inline(__always)
func vecDotQ3_KQ8_K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int) -> Float {
  var sum: Float = 0
  for b in 0..<blocks {
    let wb = w + b * 110
    let ab = a + b * 292
    let hmask = wb.assumingMemoryBound(to: UInt8.self)
    var sumi: Int32 = 0
    for half in 0..<2 {
      let q = (wb + 32 + 32 * half).assumingMemoryBound(to: UInt8.self)
      for shift in 0..<4 {
        let y = (ab + 4 + 128 * half + 32 * shift).assumingMemoryBound(to: Int8.self)
        let bits = UInt8(2 * shift)
        let maskBit = UInt8(4 * half + shift)
        var s0: Int32 = 0
        var s1: Int32 = 0
        // code = low 2 bits + 4 × third bit − 4: a set hmask bit means "no offset".
        for l in 0..<16 {
          s0 &+= (Int32((q[l] &>> bits) & 3 | ((hmask[l] &>> maskBit) & 1) &<< 2) &- 4) &* Int32(y[l])
          s1 &+= (Int32((q[l + 16] &>> bits) & 3 | ((hmask[l + 16] &>> maskBit) & 1) &<< 2) &- 4) &* Int32(y[l + 16])
        }
        let sub = 8 * half + 2 * shift
        sumi &+= s0 &* KQuant.q3Scale(wb + 96, sub) &+ s1 &* KQuant.q3Scale(wb + 96, sub + 1)
      }
    }
    sum += loadHalf(wb, 108) * ab.loadUnaligned(as: Float.self) * Float(sumi)
  }
  return sum
}
