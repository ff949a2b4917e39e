import KernelsC
import Testing

/// Which cache decode's prefetches fill: L1 on Zen 5 (AMD family 1Ah), L2 on Zen 4 (19h), other
/// vendors and anything unknown, and PEREGRINE_PREFETCH overriding either way.
@Suite("prefetch level")
struct PrefetchLevelTests {
  @Test("the CPU family picks the level when nothing overrides it")
  func byFamily() {
    #expect(pg_prefetch_level_for(0x1A, nil) == 1)
    #expect(pg_prefetch_level_for(0x19, nil) == 2)
    #expect(pg_prefetch_level_for(0, nil) == 2)
  }

  @Test("PEREGRINE_PREFETCH=l1 or l2 overrides the family; other values are ignored")
  func overrides() {
    #expect(pg_prefetch_level_for(0x19, "l1") == 1)
    #expect(pg_prefetch_level_for(0x1A, "l2") == 2)
    #expect(pg_prefetch_level_for(0x1A, "L2") == 1)
    #expect(pg_prefetch_level_for(0x19, "") == 2)
  }

  @Test("the level in use is one of the two")
  func inUse() {
    #expect([1, 2].contains(pg_prefetch_level()))
  }
}
