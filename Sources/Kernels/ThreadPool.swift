import Dispatch

/// Runs data-parallel loops over a fixed number of threads.
///
/// This first version delegates to `DispatchQueue.concurrentPerform`; the kernels issue replaces
/// the inside with a persistent spin-then-park pool without changing callers.
public final class ThreadPool: Sendable {
  public let threadCount: Int

  public init(threadCount: Int) {
    self.threadCount = max(1, threadCount)
  }

  /// Calls `body(chunk)` for every chunk index in `0..<chunks`, spread over the pool's threads.
  public func parallelFor(_ chunks: Int, _ body: (Int) -> Void) {
    if chunks <= 0 { return }
    if threadCount == 1 || chunks == 1 {
      for c in 0..<chunks { body(c) }
      return
    }
    withoutActuallyEscaping(body) { body in
      let box = UncheckedBox(body)
      DispatchQueue.concurrentPerform(iterations: chunks) { box.value($0) }
    }
  }

  /// Splits `0..<count` into about `threadCount * 4` contiguous ranges and runs them in parallel.
  public func parallelRanges(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    let chunks = max(1, min(threadCount * 4, count / max(1, minimumChunk)))
    let size = (count + chunks - 1) / chunks
    parallelFor(chunks) { c in
      let lo = c * size
      let hi = min(count, lo + size)
      if lo < hi { body(lo..<hi) }
    }
  }
}

private struct UncheckedBox<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
