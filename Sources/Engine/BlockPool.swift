/// The KV cache's blocks as ids: reference counts, a free list in least-recently-used order, and the
/// prefix cache (full blocks found by the chained hash of their tokens). Freed blocks keep their
/// contents and stay findable until the pool hands them out again, oldest first.
/// Not thread-safe: the engine's step loop owns it.
public struct BlockPool: Sendable {
  public let blockCount: Int
  public let blockSize: Int
  private var refCount: [Int32]  // [blockCount]
  private var hashOf: [BlockHash?]  // [blockCount]
  // Doubly linked free list through the blocks; -1 ends it. Head = next to hand out (oldest).
  private var prev: [Int32]
  private var next: [Int32]
  private var head: Int32 = -1
  private var tail: Int32 = -1
  public private(set) var freeCount = 0
  private var cached: [BlockHash: Int32] = [:]
  private var cachedTokens: [Int32]  // [blockCount, blockSize], to rule out hash collisions

  public init(blockCount: Int, blockSize: Int) {
    precondition(blockCount > 0 && blockSize > 0, "BlockPool: empty pool")
    self.blockCount = blockCount
    self.blockSize = blockSize
    refCount = Array(repeating: 0, count: blockCount)
    hashOf = Array(repeating: nil, count: blockCount)
    prev = Array(repeating: -1, count: blockCount)
    next = Array(repeating: -1, count: blockCount)
    cachedTokens = Array(repeating: -1, count: blockCount * blockSize)
    for b in 0..<Int32(blockCount) { pushBack(b) }
  }

  /// Blocks in use by at least one sequence.
  public var usedCount: Int { blockCount - freeCount }

  /// Blocks whose contents are cached under a hash (in use or free).
  public var cachedCount: Int { cached.count }

  /// References held on `block`.
  public func references(_ block: Int32) -> Int { Int(refCount[Int(block)]) }

  /// A fresh block for new contents, or nil when every block is in use. Evicts the least recently
  /// freed cached block if that is the one handed out.
  public mutating func allocate() -> Int32? {
    guard head >= 0 else { return nil }
    let b = head
    unlink(b)
    if let h = hashOf[Int(b)] {
      if cached[h] == b { cached[h] = nil }
      hashOf[Int(b)] = nil
    }
    refCount[Int(b)] = 1
    return b
  }

  /// Drops one reference from each block; a block nobody holds joins the free list's most recent end.
  /// Free a sequence's blocks last-first so that its prefix blocks are evicted last.
  public mutating func release(_ blocks: some Sequence<Int32>) {
    for b in blocks {
      let i = Int(b)
      precondition(refCount[i] > 0, "BlockPool: releasing a free block \(b)")
      refCount[i] -= 1
      if refCount[i] == 0 { pushBack(b) }
    }
  }

  /// The cached block holding exactly `tokens` under `hash`, now referenced once more; nil on a miss.
  public mutating func takeCached(_ hash: BlockHash, tokens: ArraySlice<Int32>) -> Int32? {
    guard let b = cached[hash], matches(b, tokens) else { return nil }
    if refCount[Int(b)] == 0 { unlink(b) }
    refCount[Int(b)] += 1
    return b
  }

  /// Whether a block with these tokens is cached (no reference taken).
  public func isCached(_ hash: BlockHash, tokens: ArraySlice<Int32>) -> Bool {
    guard let b = cached[hash] else { return false }
    return matches(b, tokens)
  }

  /// Records that `block` (full, held by the caller) holds `tokens`, findable by `hash`. A block
  /// already cached under that hash keeps its place.
  public mutating func register(_ block: Int32, hash: BlockHash, tokens: ArraySlice<Int32>) {
    precondition(tokens.count == blockSize, "BlockPool: only full blocks are cached")
    guard hashOf[Int(block)] == nil, cached[hash] == nil else { return }
    hashOf[Int(block)] = hash
    cached[hash] = block
    let base = Int(block) * blockSize
    for (j, t) in tokens.enumerated() { cachedTokens[base + j] = t }
  }

  /// Forgets every cached hash (contents become unreachable; blocks in use stay in use).
  public mutating func clearCache() {
    cached.removeAll()
    for i in hashOf.indices { hashOf[i] = nil }
  }

  private func matches(_ b: Int32, _ tokens: ArraySlice<Int32>) -> Bool {
    let base = Int(b) * blockSize
    guard tokens.count == blockSize else { return false }
    for (j, t) in tokens.enumerated() where cachedTokens[base + j] != t { return false }
    return true
  }

  private mutating func pushBack(_ b: Int32) {
    prev[Int(b)] = tail
    next[Int(b)] = -1
    if tail >= 0 { next[Int(tail)] = b } else { head = b }
    tail = b
    freeCount += 1
  }

  private mutating func unlink(_ b: Int32) {
    let p = prev[Int(b)]
    let n = next[Int(b)]
    if p >= 0 { next[Int(p)] = n } else { head = n }
    if n >= 0 { prev[Int(n)] = p } else { tail = p }
    prev[Int(b)] = -1
    next[Int(b)] = -1
    freeCount -= 1
  }
}
