import Foundation

/// An exact-match cache of finished results with a size cap (least recently used go first) and a
/// time to live. Keys are digests that already include the tenant's namespace, so one tenant can
/// never be served another's entry. Thread-safe.
final class ResultCache<Value: Sendable>: Sendable {
  struct Statistics: Sendable, Equatable {
    var hits = 0
    var misses = 0
    var entries = 0
    var bytes = 0
  }

  private struct Entry {
    var value: Value
    var bytes: Int
    var storedAt: Double
    var lastUsed: UInt64
  }

  private struct State {
    var entries: [String: Entry] = [:]
    var bytes = 0
    var clock: UInt64 = 0
    var statistics = Statistics()
  }

  let capacityBytes: Int
  let timeToLive: Double
  private let state = LockedBox(State())
  private let now: @Sendable () -> Double

  init(capacityBytes: Int, timeToLive: Double, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
    self.capacityBytes = capacityBytes
    self.timeToLive = timeToLive
    self.now = now
  }

  var isEnabled: Bool { capacityBytes > 0 }

  /// The entry for `key` if present and fresh (a stale one is dropped), counting a hit or a miss.
  func value(for key: String) -> Value? {
    let t = now()
    return state.withLock { s in
      guard var e = s.entries[key] else {
        s.statistics.misses += 1
        return nil
      }
      if t - e.storedAt > timeToLive {
        s.entries[key] = nil
        s.bytes -= e.bytes
        s.statistics.misses += 1
        Self.sync(&s)
        return nil
      }
      s.clock += 1
      e.lastUsed = s.clock
      s.entries[key] = e
      s.statistics.hits += 1
      return e.value
    }
  }

  /// Stores `value` (costing `bytes`), evicting the least recently used entries to make room. A
  /// value larger than the whole cache is not stored.
  func store(_ value: Value, bytes: Int, for key: String) {
    guard isEnabled, bytes <= capacityBytes else { return }
    let t = now()
    state.withLock { s in
      if let old = s.entries[key] { s.bytes -= old.bytes }
      s.clock += 1
      s.entries[key] = Entry(value: value, bytes: bytes, storedAt: t, lastUsed: s.clock)
      s.bytes += bytes
      while s.bytes > capacityBytes, let victim = s.entries.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
        s.entries[victim.key] = nil
        s.bytes -= victim.value.bytes
      }
      Self.sync(&s)
    }
  }

  /// Empties the cache (statistics keep counting).
  func removeAll() {
    state.withLock { s in
      s.entries = [:]
      s.bytes = 0
      Self.sync(&s)
    }
  }

  var statistics: Statistics { state.withLock { $0.statistics } }

  private static func sync(_ s: inout State) {
    s.statistics.entries = s.entries.count
    s.statistics.bytes = s.bytes
  }
}
