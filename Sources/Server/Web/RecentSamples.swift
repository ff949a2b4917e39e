import Foundation

/// The latest observations of one latency (TTFT, inter-token gaps), kept for `/v1/stats`'
/// percentiles over the last minute. /metrics' histograms hold the same observations since start;
/// a dashboard wants "now", which cumulative buckets cannot give without a Prometheus server.
/// A fixed ring: recording is one store under a lock, no allocation per token.
final class RecentSamples: @unchecked Sendable {
  struct Summary: Sendable, Equatable, Encodable {
    var count: Int
    var p50: Double?
    var p90: Double?
    var p99: Double?
  }

  private let lock = NSLock()
  private var times: [Double]  // [capacity] seconds on the monotonic clock
  private var values: [Double]  // [capacity]
  private var next = 0
  private var filled = 0

  init(capacity: Int) {
    times = Array(repeating: 0, count: max(1, capacity))
    values = Array(repeating: 0, count: max(1, capacity))
  }

  static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

  func record(_ value: Double, at time: Double = RecentSamples.now()) {
    lock.lock()
    defer { lock.unlock() }
    times[next] = time
    values[next] = value
    next = (next + 1) % times.count
    filled = min(filled + 1, times.count)
  }

  /// Percentiles (nearest rank) of the samples recorded in the last `window` seconds before `now`.
  func summary(window: Double, now: Double = RecentSamples.now()) -> Summary {
    lock.lock()
    var recent: [Double] = []
    for i in 0..<filled where times[i] >= now - window { recent.append(values[i]) }
    lock.unlock()
    guard !recent.isEmpty else { return Summary(count: 0) }
    recent.sort()
    func rank(_ q: Double) -> Double { recent[min(recent.count - 1, max(0, Int((q * Double(recent.count)).rounded(.up)) - 1))] }
    return Summary(count: recent.count, p50: rank(0.5), p90: rank(0.9), p99: rank(0.99))
  }
}
