import Engine
import Testing

@Suite("Block pool")
struct BlockPoolTests {
  @Test func allocatesEveryBlockOnceThenRunsOut() {
    var pool = BlockPool(blockCount: 5, blockSize: 4)
    var got: Set<Int32> = []
    for _ in 0..<5 { got.insert(pool.allocate()!) }
    #expect(got == [0, 1, 2, 3, 4])
    #expect(pool.allocate() == nil)
    #expect(pool.freeCount == 0)
    pool.release([3])
    #expect(pool.allocate() == 3)
  }

  @Test func freedCachedBlocksAreFoundAgainUntilEvictedOldestFirst() {
    var pool = BlockPool(blockCount: 3, blockSize: 2)
    let tokensA: [Int32] = [1, 2]
    let tokensB: [Int32] = [3, 4]
    let a = pool.allocate()!
    let b = pool.allocate()!
    let ha = BlockHash(parent: nil, tokens: tokensA[...])
    let hb = BlockHash(parent: ha, tokens: tokensB[...])
    pool.register(a, hash: ha, tokens: tokensA[...])
    pool.register(b, hash: hb, tokens: tokensB[...])
    pool.release([b, a])  // a freed last: evicted last
    #expect(pool.freeCount == 3)
    #expect(pool.cachedCount == 2)
    // A hit takes the block back out of the free list.
    #expect(pool.takeCached(ha, tokens: tokensA[...]) == a)
    #expect(pool.references(a) == 1)
    #expect(pool.freeCount == 2)
    // Wrong tokens under the same hash are a miss, never a wrong block.
    #expect(pool.takeCached(hb, tokens: tokensA[...]) == nil)
    // Allocation hands out the never-cached block first, then evicts b (freed before a).
    let fresh = pool.allocate()!
    #expect(fresh != a && fresh != b)
    #expect(pool.allocate() == b)
    #expect(!pool.isCached(hb, tokens: tokensB[...]))
    #expect(pool.isCached(ha, tokens: tokensA[...]))
  }

  @Test func sharedBlocksStayInUseUntilTheLastReferenceGoes() {
    var pool = BlockPool(blockCount: 2, blockSize: 1)
    let t: [Int32] = [7]
    let b = pool.allocate()!
    let h = BlockHash(parent: nil, tokens: t[...])
    pool.register(b, hash: h, tokens: t[...])
    #expect(pool.takeCached(h, tokens: t[...]) == b)
    #expect(pool.references(b) == 2)
    pool.release([b])
    #expect(pool.usedCount == 1)
    pool.release([b])
    #expect(pool.usedCount == 0)
  }

  @Test func chainedHashesDependOnPrefixAndSalt() {
    let t: [Int32] = [1, 2, 3]
    let root = BlockHash(parent: nil, tokens: t[...])
    let other = BlockHash(parent: nil, tokens: [9, 9, 9][...])
    #expect(BlockHash(parent: root, tokens: t[...]) != BlockHash(parent: other, tokens: t[...]))
    #expect(BlockHash(parent: nil, tokens: t[...], salt: "a") != BlockHash(parent: nil, tokens: t[...], salt: "b"))
    #expect(BlockHash(parent: nil, tokens: t[...], salt: "a") == BlockHash(parent: nil, tokens: t[...], salt: "a"))
  }
}
