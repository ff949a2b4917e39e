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

  /// `run`'s single-sequence state keeps the local layers in a ring of window blocks: a long prompt
  /// (run in 512-position pieces) and the decodes after it give the same logits, bit for bit, as one
  /// full-history cache, and rewinds are honoured only while the ring still holds the window.
  @Test func runStateRingMatchesFullHistory() throws {
    let model = try TestModels.model("gemma3-270m")
    let layout = model.kvLayout
    let bs = ModelState.blockSize
    let state = model.makeState(maxTokens: 4096)
    #expect(state.cache.windowBlockCount == (512 + 512 + bs - 1) / bs + 2)
    // 3 global layers × 4,096 positions + 15 local layers × 1,056 (the ring), instead of 18 × 4,096.
    #expect(state.cache.byteCount == 2 * 2 * layout.kvDim * (3 * 4096 + 15 * state.cache.windowBlockCount * bs))
    #expect(state.cache.byteCount * 5 < 2 * 2 * layout.kvDim * 18 * 4096 * 2)

    var rng = SplitMix64(seed: 11)
    let n = 1300
    let ids = (0..<(n + 3)).map { _ in Int32(100 + rng.next() % 20_000) }
    let blocks = (n + 3 + bs - 1) / bs
    let full = PagedKVCache(layers: layout.layers, kvDim: layout.kvDim, blockSize: bs, blockCount: blocks)
    let scratch = ScratchArena()
    let table = (0..<Int32(blocks)).map { $0 }
    let half = BatchSlice.halfAttentionStart(promptLength: n, numerics: model.numerics)
    let order = BatchSlice.orderPromptLength(promptLength: n, numerics: model.numerics)
    func reference(_ start: Int, _ end: Int) throws -> [Float] {
      var b = ForwardBatch()
      b.append(
        ids[start..<end], startPosition: start, blockTable: Array(table[..<((end + bs - 1) / bs)]), logits: .last,
        halfAttentionFrom: half, promptLength: order)
      return try model.forward(b, cache: full, scratch: scratch).values
    }
    #expect(try model.forward(Array(ids[..<n]), state: state, logits: .last).values == reference(0, n))
    for p in n..<(n + 3) {
      #expect(try model.forward([ids[p]], state: state, logits: .last).values == reference(p, p + 1), "decode at \(p)")
    }
    // A short rewind keeps its positions; running them again gives the same logits.
    #expect(state.truncate(to: n - 10) == n - 10)
    #expect(try model.forward(Array(ids[(n - 10)..<n]), state: state, logits: .last).values == reference(n - 10, n))
    // Far back, the ring no longer holds the window: the state starts over.
    #expect(state.truncate(to: 200) == 0)
  }
}
