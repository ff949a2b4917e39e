import Foundation
import KernelsC

/// Measures the memory read bandwidth the pool's threads reach together, in bytes per second: each
/// thread streams its share of a buffer far larger than the caches; the best of `rounds` passes.
///
/// The buffer is 1 GiB because "larger than the caches" is more than the guest's reported L3 on a
/// virtual machine: on the 2-vCPU Zen 5 guest this was built on (32 MB L3 reported) one thread read
/// a 64 MB buffer at 50 GB/s, 128 MB at 39, 256 MB at 24 and 512 MB at 19 GB/s. A model's weights
/// (hundreds of MB and up) stream from the slowest level, which is what a decode step's share of
/// the bandwidth should be measured against.
public func measureReadBandwidth(pool: ThreadPool, bytes: Int = 1 << 30, rounds: Int = 3) -> Double {
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
