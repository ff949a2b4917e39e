/// A bump allocator of floats reused across forward passes, so the per-token path allocates nothing
/// once the arena has grown to the largest batch it has seen.
public final class ScratchArena: @unchecked Sendable {
  private var base: UnsafeMutablePointer<Float>
  private var capacity: Int
  private var used = 0

  public init(capacity: Int = 0) {
    self.capacity = max(capacity, 16)
    base = .allocate(capacity: self.capacity)
  }

  deinit { base.deallocate() }

  /// Forgets earlier allocations and makes room for at least `floats` floats in total.
  public func reset(reserving floats: Int) {
    used = 0
    if floats > capacity {
      base.deallocate()
      capacity = floats
      base = .allocate(capacity: floats)
    }
  }

  /// `count` floats, zeroed, 16-float aligned offsets.
  public func take(_ count: Int) -> UnsafeMutablePointer<Float> {
    let rounded = (count + 15) & ~15
    precondition(used + rounded <= capacity, "ScratchArena: reserve more before taking")
    let p = base + used
    used += rounded
    p.initialize(repeating: 0, count: count)
    return p
  }

  /// Where the next `take` starts; `rewind(to:)` a mark gives back everything taken after it (a
  /// layer's temporaries, reused by the next layer).
  public var mark: Int { used }

  public func rewind(to mark: Int) {
    precondition(mark >= 0 && mark <= used, "ScratchArena: rewinding past a mark")
    used = mark
  }

  /// Floats that `take(count)` consumes, for sizing `reset(reserving:)`.
  public static func footprint(_ counts: Int...) -> Int { counts.reduce(0) { $0 + (($1 + 15) & ~15) } }
}
