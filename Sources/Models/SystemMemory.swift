import Foundation

/// How much memory this machine can give, for sizing caches from it.
public enum SystemMemory {
  /// MemAvailable from /proc/meminfo (physical memory where that is missing).
  public static func availableBytes() -> Int {
    if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) {
      for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
        let kb = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        if kb > 0 { return kb * 1024 }
      }
    }
    return Int(clamping: ProcessInfo.processInfo.physicalMemory)
  }
}
