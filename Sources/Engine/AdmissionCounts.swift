/// What admission knows when a group of requests (one API call's `n` choices) arrives: running
/// slots not yet promised to anyone, and how many groups wait beyond them. Data and arithmetic
/// only, so the rule is tested without an engine.
public struct AdmissionCounts: Sendable, Equatable {
  /// Running slots left after every running request and every waiting one ahead takes its own.
  public var freeSlots: Int
  /// Groups with at least one request that no slot covers: the queue `maxWaiting` bounds.
  public var queuedGroups: Int

  public init(freeSlots: Int, queuedGroups: Int = 0) {
    self.freeSlots = freeSlots
    self.queuedGroups = queuedGroups
  }

  /// The counts for `running` requests and waiting ones (their groups, first to run first), under
  /// `maxRunning` slots.
  public init(maxRunning: Int, running: Int, waitingGroups: some Sequence<Int>) {
    freeSlots = max(0, maxRunning - running)
    var queued = Set<Int>()
    for group in waitingGroups {
      if freeSlots > 0 { freeSlots -= 1 } else { queued.insert(group) }
    }
    queuedGroups = queued.count
  }

  /// Whether a new group may join: it can start at once (a slot is free), or fewer than
  /// `maxWaiting` groups are queued. A group is refused only when both fail.
  public func admits(maxWaiting: Int) -> Bool { freeSlots > 0 || queuedGroups < maxWaiting }

  /// Counts a group of `size` requests that joined after everything counted so far.
  public mutating func add(groupOf size: Int) {
    let covered = min(freeSlots, size)
    freeSlots -= covered
    if covered < size { queuedGroups += 1 }
  }
}
