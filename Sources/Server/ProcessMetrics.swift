import Foundation
import Prometheus

/// The standard `process_*` metrics, read from /proc at scrape time (Linux; zero elsewhere).
final class ProcessMetrics: Sendable {
  private let residentMemory: Gauge
  private let virtualMemory: Gauge
  private let cpuSeconds: Gauge
  private let openFDs: Gauge
  private let startTime: Gauge
  private let threads: Gauge

  init(registry: PrometheusCollectorRegistry) {
    residentMemory = registry.makeGauge(
      descriptor: .metric("process_resident_memory_bytes", "Resident memory size in bytes."))
    virtualMemory = registry.makeGauge(
      descriptor: .metric("process_virtual_memory_bytes", "Virtual memory size in bytes."))
    // A gauge rather than a counter: the value is read whole from the kernel each scrape.
    cpuSeconds = registry.makeGauge(
      descriptor: .metric("process_cpu_seconds_total", "User and system CPU time in seconds."))
    openFDs = registry.makeGauge(descriptor: .metric("process_open_fds", "Open file descriptors."))
    startTime = registry.makeGauge(
      descriptor: .metric("process_start_time_seconds", "Start time since the Unix epoch in seconds."))
    threads = registry.makeGauge(descriptor: .metric("process_threads", "Threads in the process."))
    startTime.set(Date().timeIntervalSince1970)
  }

  func update() {
    guard let sample = ProcessSample.read() else { return }
    residentMemory.set(Double(sample.residentBytes))
    virtualMemory.set(Double(sample.virtualBytes))
    cpuSeconds.set(sample.cpuSeconds)
    openFDs.set(Double(sample.openFDs))
    threads.set(Double(sample.threads))
  }
}

/// One reading of /proc/self.
struct ProcessSample: Sendable, Equatable {
  var residentBytes: Int
  var virtualBytes: Int
  var cpuSeconds: Double
  var threads: Int
  var openFDs: Int

  static func read() -> ProcessSample? {
    guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8) else { return nil }
    guard
      var sample = parse(
        stat: stat, pageSize: Int(sysconf(Int32(_SC_PAGESIZE))), ticksPerSecond: Int(sysconf(Int32(_SC_CLK_TCK))))
    else {
      return nil
    }
    sample.openFDs = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
    return sample
  }

  /// Parses /proc/self/stat. The command name (field 2) may hold spaces and parentheses, so fields
  /// are counted from the last ')'.
  static func parse(stat: String, pageSize: Int, ticksPerSecond: Int) -> ProcessSample? {
    guard let close = stat.lastIndex(of: ")") else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // fields[0] is field 3 (state): utime is field 14, stime 15, num_threads 20, vsize 23, rss 24.
    func field(_ n: Int) -> Int? { fields.count > n - 3 ? Int(fields[n - 3]) : nil }
    guard let utime = field(14), let stime = field(15), let nThreads = field(20), let vsize = field(23),
      let rss = field(24), ticksPerSecond > 0
    else { return nil }
    return ProcessSample(
      residentBytes: rss * pageSize, virtualBytes: vsize, cpuSeconds: Double(utime + stime) / Double(ticksPerSecond),
      threads: nThreads, openFDs: 0)
  }
}
