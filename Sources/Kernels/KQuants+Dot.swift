import GGUF

// K-quant weights · Q8_K activations. Per super-block: integer dots per sub-block, scaled by the
// sub-block's integer scale in Int32 lanes, one float multiply per super-block; minimums use Q8_K's
// per-16 sums, so no per-element subtraction is needed. Weight codes are unpacked to signed bytes
// with SIMD masks and shifts, then `pairDot` does the widening multiply.

@inline(__always) private func bsum(_ ab: UnsafeRawPointer, _ i: Int) -> Int32 {
  Int32(ab.loadUnaligned(fromByteOffset: 260 + 2 * i, as: Int16.self))
}

@inline(__always) private func act32(_ ab: UnsafeRawPointer, _ element: Int) -> SIMD32<Int8> {
  ab.loadUnaligned(fromByteOffset: 4 + element, as: SIMD32<Int8>.self)
}

@inline(__always) private func signed(_ v: SIMD32<UInt8>) -> SIMD32<Int8> { unsafeBitCast(v, to: SIMD32<Int8>.self) }

/// A lane-wise scale vector for `pairDot` output: lanes 0..<8 (elements 0..<16) get `a`, the rest `b`.
@inline(__always) private func perSixteen(_ a: Int32, _ b: Int32) -> SIMD16<Int32> {
  SIMD16<Int32>(lowHalf: SIMD8(repeating: a), highHalf: SIMD8(repeating: b))
}

@inline(__always)
func vecDotQ4_KQ8_K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int) -> Float {
  var sum: Float = 0
  for b in 0..<blocks {
    let wb = w + b * 144
    let ab = a + b * 292
    let da = ab.loadUnaligned(as: Float.self)
    var acc = SIMD16<Int32>()
    var mins: Int32 = 0
    for chunk in 0..<4 {
      let (s0, m0) = KQuant.scaleMin(wb + 4, 2 * chunk)
      let (s1, m1) = KQuant.scaleMin(wb + 4, 2 * chunk + 1)
      let q = wb.loadUnaligned(fromByteOffset: 16 + 32 * chunk, as: SIMD32<UInt8>.self)
      acc &+= pairDot(signed(q & 0x0F), act32(ab, 64 * chunk)) &* Int32(s0)
      acc &+= pairDot(signed(q &>> 4), act32(ab, 64 * chunk + 32)) &* Int32(s1)
      mins &+= Int32(m0) &* (bsum(ab, 4 * chunk) &+ bsum(ab, 4 * chunk + 1))
      mins &+= Int32(m1) &* (bsum(ab, 4 * chunk + 2) &+ bsum(ab, 4 * chunk + 3))
    }
    sum += loadHalf(wb, 0) * da * Float(acc.wrappedSum()) - loadHalf(wb, 2) * da * Float(mins)
  }
  return sum
}

@inline(__always)
func vecDotQ5_KQ8_K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int) -> Float {
  var sum: Float = 0
  for b in 0..<blocks {
    let wb = w + b * 176
    let ab = a + b * 292
    let da = ab.loadUnaligned(as: Float.self)
    let qh = wb.loadUnaligned(fromByteOffset: 16, as: SIMD32<UInt8>.self)
    var acc = SIMD16<Int32>()
    var mins: Int32 = 0
    for chunk in 0..<4 {
      let (s0, m0) = KQuant.scaleMin(wb + 4, 2 * chunk)
      let (s1, m1) = KQuant.scaleMin(wb + 4, 2 * chunk + 1)
      let q = wb.loadUnaligned(fromByteOffset: 48 + 32 * chunk, as: SIMD32<UInt8>.self)
      let h0 = ((qh &>> UInt8(2 * chunk)) & 1) &<< 4
      let h1 = ((qh &>> UInt8(2 * chunk + 1)) & 1) &<< 4
      acc &+= pairDot(signed((q & 0x0F) | h0), act32(ab, 64 * chunk)) &* Int32(s0)
      acc &+= pairDot(signed((q &>> 4) | h1), act32(ab, 64 * chunk + 32)) &* Int32(s1)
      mins &+= Int32(m0) &* (bsum(ab, 4 * chunk) &+ bsum(ab, 4 * chunk + 1))
      mins &+= Int32(m1) &* (bsum(ab, 4 * chunk + 2) &+ bsum(ab, 4 * chunk + 3))
    }
    sum += loadHalf(wb, 0) * da * Float(acc.wrappedSum()) - loadHalf(wb, 2) * da * Float(mins)
  }
  return sum
}

@inline(__always)
func vecDotQ6_KQ8_K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int) -> Float {
  var sum: Float = 0
  for b in 0..<blocks {
    let wb = w + b * 210
    let ab = a + b * 292
    var acc = SIMD16<Int32>()
    for half in 0..<2 {
      let ql0 = wb.loadUnaligned(fromByteOffset: 64 * half, as: SIMD32<UInt8>.self)
      let ql1 = wb.loadUnaligned(fromByteOffset: 64 * half + 32, as: SIMD32<UInt8>.self)
      let qh = wb.loadUnaligned(fromByteOffset: 128 + 32 * half, as: SIMD32<UInt8>.self)
      let sc = wb + 192 + 8 * half
      func scale(_ i: Int) -> Int32 { Int32(sc.load(fromByteOffset: i, as: Int8.self)) }
      // Quarter k holds elements 32k..<32k+32 of this half, scales 2k and 2k+1.
      @inline(__always) func add(_ codes: SIMD32<UInt8>, _ k: Int) {
        let q = signed(codes) &- 32
        acc &+= pairDot(q, act32(ab, 128 * half + 32 * k)) &* perSixteen(scale(2 * k), scale(2 * k + 1))
      }
      add((ql0 & 0x0F) | (qh & 3) &<< 4, 0)
      add((ql1 & 0x0F) | ((qh &>> 2) & 3) &<< 4, 1)
      add((ql0 &>> 4) | ((qh &>> 4) & 3) &<< 4, 2)
      add((ql1 &>> 4) | ((qh &>> 6) & 3) &<< 4, 3)
    }
    sum += loadHalf(wb, 208) * ab.loadUnaligned(as: Float.self) * Float(acc.wrappedSum())
  }
  return sum
}

@inline(__always)
func vecDotQ2_KQ8_K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int) -> Float {
  var sum: Float = 0
  for b in 0..<blocks {
    let wb = w + b * 84
    let ab = a + b * 292
    var acc = SIMD16<Int32>()
    var mins: Int32 = 0
    for i in 0..<16 { mins &+= Int32(wb.load(fromByteOffset: i, as: UInt8.self) >> 4) &* bsum(ab, i) }
    for half in 0..<2 {
      let q = wb.loadUnaligned(fromByteOffset: 16 + 32 * half, as: SIMD32<UInt8>.self)
      for shift in 0..<4 {
        let sub = 8 * half + 2 * shift
        let s0 = Int32(wb.load(fromByteOffset: sub, as: UInt8.self) & 0x0F)
        let s1 = Int32(wb.load(fromByteOffset: sub + 1, as: UInt8.self) & 0x0F)
        let codes = signed((q &>> UInt8(2 * shift)) & 3)
        acc &+= pairDot(codes, act32(ab, 128 * half + 32 * shift)) &* perSixteen(s0, s1)
      }
    }
    let da = ab.loadUnaligned(as: Float.self)
    sum += loadHalf(wb, 80) * da * Float(acc.wrappedSum()) - loadHalf(wb, 82) * da * Float(mins)
  }
  return sum
}

@inline(__always)
func vecDotQ3_KQ8_K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, _ blocks: Int) -> Float {
  var sum: Float = 0
  for b in 0..<blocks {
    let wb = w + b * 110
    let ab = a + b * 292
    let hmask = wb.loadUnaligned(as: SIMD32<UInt8>.self)
    var acc = SIMD16<Int32>()
    for half in 0..<2 {
      let q = wb.loadUnaligned(fromByteOffset: 32 + 32 * half, as: SIMD32<UInt8>.self)
      for shift in 0..<4 {
        let sub = 8 * half + 2 * shift
        // code = low 2 bits + 4 × third bit, minus 4: the set bit means "no offset".
        let third = ((hmask &>> UInt8(4 * half + shift)) & 1) &<< 2
        let codes = signed(((q &>> UInt8(2 * shift)) & 3) | third) &- 4
        let scales = perSixteen(KQuant.q3Scale(wb + 96, sub), KQuant.q3Scale(wb + 96, sub + 1))
        acc &+= pairDot(codes, act32(ab, 128 * half + 32 * shift)) &* scales
      }
    }
    sum += loadHalf(wb, 108) * ab.loadUnaligned(as: Float.self) * Float(acc.wrappedSum())
  }
  return sum
}
