import Glibc
import KernelsC
import Synchronization

/// Runs data-parallel loops over a fixed number of threads: `threadCount - 1` persistent workers
/// plus the calling thread, which always takes part.
///
/// Workers spin on a generation counter for a while after each job (a decode step issues a few
/// hundred small parallel regions a few microseconds apart, and waking a parked thread costs tens of
/// microseconds), then park on a condition variable. Chunks are handed out with an atomic counter,
/// so each index runs exactly once on whichever thread gets to it first.
///
/// One parallel region at a time: a call made while another is running (from a worker inside a
/// body, or from a second thread) runs its loop serially on the calling thread instead of waiting,
/// so nesting and concurrent use are safe and cannot deadlock.
public final class ThreadPool: @unchecked Sendable {
  /// Threads that execute a parallel region, the caller included.
  public let threadCount: Int

  private let core: PoolCore
  private var threads: [pthread_t] = []

  /// Scratch memory for kernels called with this pool (quantized activation rows); see `withScratch`.
  private let workspace = KernelWorkspace()
  private let workspaceBusy = Atomic<Bool>(false)

  public init(threadCount: Int) {
    self.threadCount = max(1, threadCount)
    core = PoolCore()
    for index in 1..<self.threadCount {
      let context = Unmanaged.passRetained(WorkerContext(core: core, index: index)).toOpaque()
      var thread = pthread_t()
      let status = pthread_create(&thread, nil, { raw in
        let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
        context.core.workerLoop()
        return nil
      }, context)
      if status == 0 {
        threads.append(thread)
      } else {
        Unmanaged<WorkerContext>.fromOpaque(context).release()
      }
    }
    core.workerCount = threads.count
  }

  deinit {
    core.shutdown()
    for t in threads { pthread_join(t, nil) }
  }

  /// Runs `body` with at least `bytes` bytes of 64-byte aligned scratch memory owned by the pool,
  /// reused from call to call. If another thread holds it, a temporary buffer is used instead, so
  /// concurrent callers stay correct (only slower).
  public func withScratch<R>(bytes: Int, _ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
    if workspaceBusy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
      defer { workspaceBusy.store(false, ordering: .releasing) }
      return try body(workspace.bytes(bytes))
    }
    let temporary = UnsafeMutableRawPointer.allocate(byteCount: max(64, bytes), alignment: 64)
    defer { temporary.deallocate() }
    return try body(temporary)
  }

  /// Calls `body(chunk)` for every chunk index in `0..<chunks`, spread over the pool's threads.
  /// (Publishing a closure to other threads costs one small allocation per region; hot loops use
  /// a `ParallelJob` struct instead.)
  public func parallelFor(_ chunks: Int, _ body: (Int) -> Void) {
    if chunks <= 0 { return }
    if threads.isEmpty || chunks == 1 || !core.tryAcquire() {
      for c in 0..<chunks { body(c) }
      return
    }
    defer { core.release() }
    withoutActuallyEscaping(body) { escaping in
      var job = ClosureJob(body: escaping)
      withUnsafeMutablePointer(to: &job) { core.run(UnsafeRawPointer($0), type: ClosureJob.self, chunks: chunks) }
    }
  }

  /// Calls `job.run(chunk)` for every chunk index in `0..<chunks`, spread over the pool's threads,
  /// without allocating: the job is published by address for the region's duration.
  public func parallelFor<Job: ParallelJob>(_ chunks: Int, job: Job) {
    if chunks <= 0 { return }
    if threads.isEmpty || chunks == 1 || !core.tryAcquire() {
      for c in 0..<chunks { job.run(c) }
      return
    }
    defer { core.release() }
    var local = job
    withUnsafeMutablePointer(to: &local) { core.run(UnsafeRawPointer($0), type: Job.self, chunks: chunks) }
  }

  /// Splits `0..<count` into at most `threadCount * 4` contiguous ranges of at least `minimumChunk`
  /// indices and runs them in parallel.
  public func parallelRanges(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    if count <= 0 { return }
    let chunks = max(1, min(threadCount * 4, count / max(1, minimumChunk)))
    let size = (count + chunks - 1) / chunks
    parallelFor(chunks) { c in
      let lo = c * size
      let hi = min(count, lo + size)
      if lo < hi { body(lo..<hi) }
    }
  }

  /// Splits `0..<count` into exactly `threadCount` nearly equal contiguous ranges (rounded to
  /// multiples of `granule`), one per thread: the cheapest split for uniform work such as matrix rows.
  public func parallelEven(_ count: Int, granule: Int = 1, _ body: (Range<Int>) -> Void) {
    if count <= 0 { return }
    let g = max(1, granule)
    let units = (count + g - 1) / g
    let parts = max(1, min(threadCount, units))
    parallelFor(parts) { p in
      let lo = min(count, (units * p / parts) * g)
      let hi = min(count, (units * (p + 1) / parts) * g)
      if lo < hi { body(lo..<hi) }
    }
  }
}

/// The work of one parallel region as a value: `run(chunk)` is called once for every chunk index,
/// on any of the pool's threads. Conforming structs hold plain values and pointers.
public protocol ParallelJob {
  func run(_ chunk: Int)
}

extension ParallelJob {
  @inline(__always) static func invoke(_ job: UnsafeRawPointer, _ chunk: Int) {
    job.assumingMemoryBound(to: Self.self).pointee.run(chunk)
  }
}

private struct ClosureJob: ParallelJob {
  let body: (Int) -> Void
  func run(_ chunk: Int) { body(chunk) }
}

private final class WorkerContext {
  let core: PoolCore
  let index: Int
  init(core: PoolCore, index: Int) {
    self.core = core
    self.index = index
  }
}

/// Shared state between the caller and the workers.
///
/// A region is published as (job, chunks) followed by a bump of `generation`. Chunks are claimed
/// from `ticket`, which packs the generation (high 32 bits) with the next chunk index, so a worker
/// that wakes late can never claim a chunk of a later region with a stale job. The caller counts
/// finished chunks in `done` and returns when all are done: it never waits for a worker that has
/// not started, which matters when the machine is oversubscribed and a worker is descheduled.
private final class PoolCore: @unchecked Sendable {
  let generation = Atomic<Int>(0)
  let ticket = Atomic<Int>(0)
  let done = Atomic<Int>(0)
  /// Workers parked (or about to park) on the condition variable.
  let sleepers = Atomic<Int>(0)
  /// 1 while a region is running; guards against nested and concurrent regions.
  let busy = Atomic<Int>(0)
  let stopping = Atomic<Bool>(false)
  var workerCount = 0

  // Written by the caller before `generation` is bumped (release); read by workers after they see
  // the new generation (acquire). A raw pointer to the caller's closure: no reference counting.
  let job = Atomic<Int>(0)
  let chunks = Atomic<Int>(0)
  /// The job's type (how to call it); written with `job`, under the same publication.
  var jobType: (any ParallelJob.Type)?

  // Heap cells: pthread objects must not move, which Swift does not promise for stored properties.
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
  /// Pause iterations a worker spins before yielding, then yields before parking (~0.1–1 ms in all).
  private let spinLimit = 4096
  private let yieldLimit = 256

  init() {
    pthread_mutex_init(mutex, nil)
    pthread_cond_init(condition, nil)
  }

  deinit {
    pthread_mutex_destroy(mutex)
    pthread_cond_destroy(condition)
    mutex.deallocate()
    condition.deallocate()
  }

  func tryAcquire() -> Bool {
    busy.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged
  }

  func release() { busy.store(0, ordering: .releasing) }

  func run(_ body: UnsafeRawPointer, type: any ParallelJob.Type, chunks count: Int) {
    let g = generation.load(ordering: .relaxed) &+ 1
    // Retire the previous region's ticket before publishing this one's job and count. A worker
    // that saw the previous generation late may read this region's count while still holding the
    // previous tag: with the old (exhausted) ticket still in place it could claim a chunk of this
    // job, and its `done` increment, landing after the reset below, left `done` at count + 1 and
    // this caller spinning forever (seen under heavy oversubscription). Its acquire load of the
    // count now also shows it the new ticket, whose tag it does not hold.
    ticket.store((g & 0x7FFF_FFFF) << 32, ordering: .sequentiallyConsistent)
    jobType = type
    job.store(Int(bitPattern: body), ordering: .releasing)
    chunks.store(count, ordering: .releasing)
    done.store(0, ordering: .relaxed)
    generation.store(g, ordering: .sequentiallyConsistent)
    if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
      pthread_mutex_lock(mutex)
      pthread_cond_broadcast(condition)
      pthread_mutex_unlock(mutex)
    }
    work(generation: g, body: body, type: type, chunks: count)
    var spins = 0
    while done.load(ordering: .acquiring) != count {
      spins += 1
      if spins < spinLimit { pg_cpu_relax() } else { sched_yield() }
    }
  }

  /// Claims and runs chunks of region `g` until none are left.
  @inline(__always) private func work(
    generation g: Int, body: UnsafeRawPointer, type: any ParallelJob.Type, chunks count: Int
  ) {
    let tag = (g & 0x7FFF_FFFF) << 32
    var t = ticket.load(ordering: .relaxed)
    while true {
      if t & ~0xFFFF_FFFF != tag { return }
      let c = t & 0xFFFF_FFFF
      if c >= count { return }
      let (exchanged, original) = ticket.compareExchange(
        expected: t, desired: t + 1, successOrdering: .acquiring, failureOrdering: .relaxed)
      if !exchanged {
        t = original
        continue
      }
      type.invoke(body, c)
      done.add(1, ordering: .releasing)
      t = ticket.load(ordering: .relaxed)
    }
  }

  func workerLoop() {
    var seen = 0
    while true {
      var spins = 0
      var current = generation.load(ordering: .acquiring)
      while current == seen && !stopping.load(ordering: .relaxed) {
        spins += 1
        if spins < spinLimit {
          pg_cpu_relax()
        } else if spins < spinLimit + yieldLimit {
          sched_yield()
        } else {
          // Park. Announce first, then re-check under the mutex: the caller bumps the generation
          // before reading `sleepers`, so either it sees us or we see its new generation.
          sleepers.add(1, ordering: .sequentiallyConsistent)
          pthread_mutex_lock(mutex)
          while generation.load(ordering: .sequentiallyConsistent) == seen
            && !stopping.load(ordering: .sequentiallyConsistent)
          {
            pthread_cond_wait(condition, mutex)
          }
          pthread_mutex_unlock(mutex)
          sleepers.subtract(1, ordering: .sequentiallyConsistent)
          spins = 0
        }
        current = generation.load(ordering: .acquiring)
      }
      if current == seen { return }  // stopping
      seen = current
      let body = UnsafeRawPointer(bitPattern: job.load(ordering: .acquiring))
      let count = chunks.load(ordering: .acquiring)
      let type = jobType
      // If the caller has already moved on, the ticket's tag no longer matches and nothing runs.
      if let body, let type { work(generation: current, body: body, type: type, chunks: count) }
    }
  }

  func shutdown() {
    pthread_mutex_lock(mutex)
    stopping.store(true, ordering: .sequentiallyConsistent)
    pthread_cond_broadcast(condition)
    pthread_mutex_unlock(mutex)
  }
}
