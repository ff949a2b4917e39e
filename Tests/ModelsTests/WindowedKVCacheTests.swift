import Foundation
import Models
import TestSupport
import Testing

/// Gemma 3's local layers in a KV region of their own, addressed through a window table whose
/// entries behind the window are -1, must give the same logits, bit for bit, as one region for
/// every layer; the blocks behind the window are poisoned with NaN, so reading one would show.
@Suite("Windowed KV region on Gemma 3", .serialized)
struct WindowedKVCacheTests {
  @Test func windowRegionMatchesFullHistoryAndNeverReadsBehindTheWindow() throws {
    let model = try TestModels.model("gemma3-270m")
    let layout = model.kvLayout
    let window = try #require(layout.window)
    #expect(window == 512 && layout.windowedCount == 15)
    let bs = ModelState.blockSize
    var rng = SplitMix64(seed: 5)
    let n = 760
    let ids = (0..<n).map { _ in Int32(100 + rng.next() % 20_000) }
    let blocks = (n + bs - 1) / bs
    let full = PagedKVCache(layers: layout.layers, kvDim: layout.kvDim, blockSize: bs, blockCount: blocks)
    // Window blocks in reverse order, so the two tables differ.
    let split = PagedKVCache(layout: layout, blockSize: bs, blockCount: blocks, windowBlockCount: blocks + 3)
    #expect(split.windowLayers == 15 && split.fullLayers == 3)
    #expect(split.byteCount == blocks * 3 * 2 * 2 * bs * 256 + (blocks + 3) * 15 * 2 * 2 * bs * 256)
    let table = (0..<Int32(blocks)).map { $0 }
    let windowBlocks = table.map { Int32(blocks + 2) - $0 }
    func poison(_ block: Int32) {
      for l in 0..<layout.layers where split.isWindowed(l) {
        let k = split.keyBase(layer: l) + Int(block) * split.blockStride
        let v = split.valueBase(layer: l) + Int(block) * split.blockStride
        for i in 0..<split.blockStride {
          k[i] = .nan
          v[i] = .nan
        }
      }
    }
    for b in 0..<Int32(blocks + 3) { poison(b) }
    let scratchFull = ScratchArena()
    let scratchSplit = ScratchArena()
    // Prompt chunks, then single-token decodes, as the engine would step them.
    var steps = [256, 256, 200]
    steps += Array(repeating: 1, count: n - steps.reduce(0, +))
    var start = 0
    var released = 0
    for count in steps {
      let end = start + count
      // Blocks wholly before the window of `start` are released: -1 in the table, garbage inside.
      let first = max(0, start - window + 1) / bs
      while released < first {
        poison(windowBlocks[released])
        released += 1
      }
      var windowTable = Array(windowBlocks[..<((end + bs - 1) / bs)])
      for i in 0..<first { windowTable[i] = -1 }
      let used = (end + bs - 1) / bs
      var a = ForwardBatch()
      a.append(ids[start..<end], startPosition: start, blockTable: Array(table[..<used]), logits: .last, halfAttentionFrom: 712)
      var b = ForwardBatch()
      b.append(
        ids[start..<end], startPosition: start, blockTable: Array(table[..<used]), logits: .last, halfAttentionFrom: 712,
        windowTable: windowTable)
      let expected = try model.forward(a, cache: full, scratch: scratchFull).values
      let got = try model.forward(b, cache: split, scratch: scratchSplit).values
      #expect(!got.contains { $0.isNaN }, "position \(start): read a released block")
      if got != expected {
        Issue.record("positions \(start)..<\(end): logits differ")
        return
      }
      start = end
    }
    #expect(released > 10, "the window moved past \(released) blocks")

    // A slice without a window table, or with -1 inside the window, is refused, not read.
    var missing = ForwardBatch()
    missing.append(ids[0..<4], startPosition: 0, blockTable: [0], logits: .last)
    #expect(throws: ModelError.self) { _ = try model.forward(missing, cache: split, scratch: scratchSplit) }
    var hole = ForwardBatch()
    hole.append(
      ids[600..<601], startPosition: 600, blockTable: Array(table[..<38]), logits: .last,
      windowTable: Array(repeating: -1, count: 38))
    #expect(throws: ModelError.self) { _ = try model.forward(hole, cache: split, scratch: scratchSplit) }
  }
}
