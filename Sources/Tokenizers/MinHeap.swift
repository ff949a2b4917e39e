/// Something queued by a packed sort key; smaller keys come out first.
protocol Prioritized {
  var priority: UInt64 { get }
}

/// Binary min-heap on `priority`; the merge queue of both BPE and SentencePiece. Its storage is
/// kept between uses so a tokenizer workspace does not reallocate per word.
struct MinHeap<Element: Prioritized> {
  private var heap: [Element] = []

  var isEmpty: Bool { heap.isEmpty }

  mutating func removeAll() { heap.removeAll(keepingCapacity: true) }

  mutating func insert(_ c: Element) {
    heap.append(c)
    var i = heap.count - 1
    while i > 0 {
      let parent = (i - 1) / 2
      guard heap[i].priority < heap[parent].priority else { break }
      heap.swapAt(i, parent)
      i = parent
    }
  }

  mutating func popMin() -> Element? {
    guard !heap.isEmpty else { return nil }
    let top = heap[0]
    let last = heap.removeLast()
    if heap.isEmpty { return top }
    heap[0] = last
    var i = 0
    let n = heap.count
    while true {
      let l = 2 * i + 1
      let r = l + 1
      var m = i
      if l < n && heap[l].priority < heap[m].priority { m = l }
      if r < n && heap[r].priority < heap[m].priority { m = r }
      if m == i { break }
      heap.swapAt(i, m)
      i = m
    }
    return top
  }
}
