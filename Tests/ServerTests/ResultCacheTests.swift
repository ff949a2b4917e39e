import Foundation
import Testing

@testable import Server

@Suite struct ResultCacheTests {
  final class Clock: @unchecked Sendable {
    var t = 0.0
  }

  @Test func leastRecentlyUsedGoFirstWhenFull() {
    let cache = ResultCache<String>(capacityBytes: 30, timeToLive: 100)
    cache.store("a", bytes: 10, for: "ka")
    cache.store("b", bytes: 10, for: "kb")
    cache.store("c", bytes: 10, for: "kc")
    #expect(cache.value(for: "ka") == "a")  // a is now the most recent
    cache.store("d", bytes: 10, for: "kd")  // evicts b
    #expect(cache.value(for: "kb") == nil)
    #expect(cache.value(for: "ka") == "a" && cache.value(for: "kc") == "c" && cache.value(for: "kd") == "d")
    #expect(cache.statistics == .init(hits: 4, misses: 1, entries: 3, bytes: 30))
    cache.store("huge", bytes: 31, for: "kh")
    #expect(cache.value(for: "kh") == nil && cache.statistics.entries == 3)
  }

  @Test func entriesExpire() {
    let clock = Clock()
    let cache = ResultCache<Int>(capacityBytes: 100, timeToLive: 5, now: { clock.t })
    cache.store(1, bytes: 1, for: "k")
    clock.t = 5
    #expect(cache.value(for: "k") == 1)
    clock.t = 5.01
    #expect(cache.value(for: "k") == nil)
    #expect(cache.statistics.entries == 0 && cache.statistics.bytes == 0)
  }

  @Test func disabledCacheStoresNothing() {
    let cache = ResultCache<Int>(capacityBytes: 0, timeToLive: 5)
    cache.store(1, bytes: 0, for: "k")
    #expect(!cache.isEnabled && cache.value(for: "k") == nil)
  }
}
