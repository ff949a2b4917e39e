import Foundation
import Kernels
@testable import Models
import TestSupport
import Testing

/// A Q8_0 `PagedKVCache`: its size, and `storeKV` quantizing each token's rows into the slot its
/// block table (or window table) names.
@Suite("Q8_0 paged KV cache")
struct QuantizedKVCacheTests {
  @Test func bytesPerBlockFollowTheStorageType() {
    // SmolLM2: 30 layers × 3 KV heads × 64; 16 positions per block.
    #expect(PagedKVCache.bytesPerBlock(layers: 30, kvDim: 192, blockSize: 16) == 2 * 30 * 16 * 192 * 2)
    #expect(PagedKVCache.bytesPerBlock(layers: 30, kvDim: 192, blockSize: 16, type: .q8_0) == 2 * 30 * 16 * 6 * 34)
    let cache = PagedKVCache(layers: 2, kvDim: 64, blockSize: 4, blockCount: 5, type: .q8_0)
    #expect(cache.rowBytes == 68 && cache.blockBytes == 4 * 68)
    #expect(cache.byteCount == 5 * PagedKVCache.bytesPerBlock(layers: 2, kvDim: 64, blockSize: 4, type: .q8_0))
  }

  @Test func headSizesMustBeWholeQ8Blocks() {
    #expect(KVCacheType.q8_0.unsupportedReason(headDim: 64) == nil)
    #expect(KVCacheType.q8_0.unsupportedReason(headDim: 256) == nil)
    #expect(KVCacheType.q8_0.unsupportedReason(headDim: 48) != nil)
    #expect(KVCacheType.q8_0.unsupportedReason(headDim: 16) != nil)
    #expect(KVCacheType.f16.unsupportedReason(headDim: 48) == nil)
  }

  @Test func storeQuantizesEveryRowIntoItsSlot() {
    // Three layers, the middle one windowed in a region of its own; two sequences with shuffled tables.
    let headDim = 32
    let kvDim = 3 * headDim
    let bs = 4
    let layout = KVLayout(layers: 3, kvDim: kvDim, headDim: headDim, windowedLayers: [false, true, false], window: 6)
    let cache = PagedKVCache(layout: layout, blockSize: bs, blockCount: 9, windowBlockCount: 7, type: .q8_0)
    #expect(cache.windowLayers == 1 && cache.fullLayers == 2)
    var rng = SplitMix64(seed: 3)
    var fullIDs = (0..<Int32(9)).map { $0 }
    fullIDs.shuffle(using: &rng)
    var windowIDs = (0..<Int32(7)).map { $0 }
    windowIDs.shuffle(using: &rng)
    var batch = ForwardBatch()
    // Sequence A: positions 3..<13 (3 blocks); sequence B: positions 0..<7 (2 blocks).
    batch.append(
      Array(repeating: 1, count: 10), startPosition: 3, blockTable: Array(fullIDs[0..<4]), logits: .last,
      windowTable: Array(windowIDs[0..<4]))
    batch.append(
      Array(repeating: 2, count: 7), startPosition: 0, blockTable: Array(fullIDs[4..<6]), logits: .last,
      windowTable: Array(windowIDs[4..<6]))
    let placement = TokenPlacement(batch)
    let n = batch.tokens.count
    for layer in 0..<3 {
      let k = rng.floats(n * kvDim, in: -5...5)  // [n, kvDim]
      let v = rng.floats(n * kvDim, in: -1...1)  // [n, kvDim]
      storeKV(k, v, batch: batch, placement: placement, layer: layer, cache: cache)
      for t in 0..<n {
        let p = placement.position[t]
        let slice = batch.slices[placement.slice[t]]
        let block = cache.isWindowed(layer) ? slice.windowTable![p / bs] : slice.blockTable[p / bs]
        for (source, row) in [
          (k, cache.keyRow(layer: layer, block: block, slot: p % bs)),
          (v, cache.valueRow(layer: layer, block: block, slot: p % bs)),
        ] {
          var expected = [UInt8](repeating: 0, count: cache.rowBytes)
          source.withUnsafeBufferPointer { s in
            expected.withUnsafeMutableBytes {
              KVQ8.quantizeRowReference(s.baseAddress! + t * kvDim, $0.baseAddress!, kvDim)
            }
          }
          let stored = Array(UnsafeRawBufferPointer(start: row, count: cache.rowBytes))
          #expect(stored == expected, "layer \(layer) token \(t) position \(p)")
        }
      }
    }
  }
}
