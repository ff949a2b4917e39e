import Foundation
import KernelsC

/// Measures the memory read bandwidth the pool's threads reach together, in bytes per second: each
/// thread streams its share of a buffer far larger than the caches; the best of `rounds` passes.
public func measureReadBandwidth(pool: ThreadPool, bytes: Int = 256 << 20, rounds: Int = 5) -> Double {
  let size = max(1 << 20, bytes) & ~4095
  let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 4096)
  defer { buffer.deallocate() }
  // Touch every page in parallel first so the probe times reads, not page faults.
  pool.parallelEven(size / 4096) { pages in
    for p in pages { (buffer + p * 4096).storeBytes(of: UInt64(p), as: UInt64.self) }
    memset(buffer + pages.lowerBound * 4096, 1, pages.count * 4096)
  }
  var best = 0.0
  let sink = UnsafeMutablePointer<UInt64>.allocate(capacity: 64)
  defer { sink.deallocate() }
  for _ in 0..<max(1, rounds) {
    let start = DispatchTime.now().uptimeNanoseconds
    pool.parallelEven(size / 64) { lines in
      sink[lines.lowerBound % 64] &+= pg_read_checksum(buffer + lines.lowerBound * 64, lines.count * 64)
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    best = max(best, Double(size) / seconds)
  }
  return best
}
