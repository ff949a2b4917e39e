import Dispatch
import Kernels
import Testing

/// The spin-then-park pool: coverage, nesting, concurrent callers, shutdown.
@Suite("ThreadPool", .timeLimit(.minutes(1)))
struct ThreadPoolTests {
  @Test("every chunk runs exactly once", arguments: [1, 2, 3, 5])
  func exactlyOnce(_ threads: Int) {
    let pool = ThreadPool(threadCount: threads)
    #expect(pool.threadCount == threads)
    for chunks in [0, 1, 2, 3, 7, 64, 1000] {
      for _ in 0..<50 {
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: max(1, chunks))
        counts.initialize(repeating: 0, count: max(1, chunks))
        pool.parallelFor(chunks) { counts[$0] += 1 }
        #expect((0..<chunks).allSatisfy { counts[$0] == 1 }, "\(threads) threads, \(chunks) chunks")
        counts.deallocate()
      }
    }
  }

  @Test("parallelRanges and parallelEven cover 0..<count without overlap")
  func rangesCover() {
    let pool = ThreadPool(threadCount: 2)
    for count in [0, 1, 5, 16, 17, 577, 4096] {
      for granule in [1, 4, 16] {
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: max(1, count))
        counts.initialize(repeating: 0, count: max(1, count))
        pool.parallelEven(count, granule: granule) { r in for i in r { counts[i] += 1 } }
        pool.parallelRanges(count, minimumChunk: granule) { r in for i in r { counts[i] += 1 } }
        #expect((0..<count).allSatisfy { counts[$0] == 2 }, "count \(count) granule \(granule)")
        counts.deallocate()
      }
    }
  }

  @Test("a parallel region inside a body runs serially and completely")
  func nested() {
    let pool = ThreadPool(threadCount: 2)
    let counts = UnsafeMutablePointer<Int>.allocate(capacity: 8 * 9)
    counts.initialize(repeating: 0, count: 8 * 9)
    pool.parallelFor(8) { outer in
      pool.parallelFor(9) { inner in counts[outer * 9 + inner] += 1 }
    }
    #expect((0..<72).allSatisfy { counts[$0] == 1 })
    counts.deallocate()
  }

  @Test("several threads sharing one pool all get complete results")
  func concurrentCallers() {
    let pool = ThreadPool(threadCount: 2)
    let callers = 4
    let perCaller = 300
    let counts = UnsafeMutablePointer<Int>.allocate(capacity: callers * perCaller)
    counts.initialize(repeating: 0, count: callers * perCaller)
    nonisolated(unsafe) let shared = counts
    DispatchQueue.concurrentPerform(iterations: callers) { c in
      for _ in 0..<20 {
        pool.parallelFor(perCaller) { shared[c * perCaller + $0] += 1 }
        pool.withScratch(bytes: 1000 + c) { $0.storeBytes(of: UInt8(c), as: UInt8.self) }
      }
    }
    #expect((0..<(callers * perCaller)).allSatisfy { counts[$0] == 20 })
    counts.deallocate()
  }

  @Test("pools shut down cleanly, idle or right after work")
  func shutdown() {
    for i in 0..<50 {
      let pool = ThreadPool(threadCount: 3)
      if i % 2 == 0 {
        var sum = 0
        let lock = UnsafeMutablePointer<Int>.allocate(capacity: 16)
        lock.initialize(repeating: 0, count: 16)
        pool.parallelFor(16) { lock[$0] = $0 }
        for j in 0..<16 { sum += lock[j] }
        lock.deallocate()
        #expect(sum == 120)
      }
    }
  }

  @Test("workers that parked wake up for the next region")
  func wakesAfterParking() async throws {
    let pool = ThreadPool(threadCount: 2)
    pool.parallelFor(4) { _ in }
    try await Task.sleep(for: .milliseconds(300))  // longer than the spin phase
    let counts = UnsafeMutablePointer<Int>.allocate(capacity: 100)
    counts.initialize(repeating: 0, count: 100)
    pool.parallelFor(100) { counts[$0] += 1 }
    #expect((0..<100).allSatisfy { counts[$0] == 1 })
    counts.deallocate()
  }

  struct CountingJob: ParallelJob {
    let counts: UnsafeMutablePointer<Int>
    func run(_ chunk: Int) { counts[chunk] += 1 }
  }

  @Test("a ParallelJob struct runs every chunk exactly once, nested or not", arguments: [1, 2, 3])
  func jobExactlyOnce(_ threads: Int) {
    let pool = ThreadPool(threadCount: threads)
    for chunks in [0, 1, 2, 5, 300] {
      let counts = UnsafeMutablePointer<Int>.allocate(capacity: max(1, chunks))
      counts.initialize(repeating: 0, count: max(1, chunks))
      for _ in 0..<20 { pool.parallelFor(chunks, job: CountingJob(counts: counts)) }
      // Inside a closure region the job runs serially on the calling thread.
      pool.parallelFor(2) { c in if c == 0 { pool.parallelFor(chunks, job: CountingJob(counts: counts)) } }
      #expect((0..<chunks).allSatisfy { counts[$0] == 21 }, "\(threads) threads, \(chunks) chunks")
      counts.deallocate()
    }
  }
}
