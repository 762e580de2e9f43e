/// Keeps the `limit` best (score, row) pairs seen, best first.
///
/// A bounded min-heap: each offer is O(1) when it loses to the current worst
/// kept, O(log n) otherwise. Ties go to the lower row number, i.e. the ID that
/// appeared first, so answers are deterministic.
struct TopSelector {
    let limit: Int
    private var heap: [(score: Double, row: Int32)] = []

    init(limit: Int) {
        self.limit = max(0, limit)
        heap.reserveCapacity(self.limit)
    }

    /// True when `a` ranks below `b`.
    @inline(__always)
    private static func worse(_ a: (score: Double, row: Int32), _ b: (score: Double, row: Int32)) -> Bool {
        a.score < b.score || (a.score == b.score && a.row > b.row)
    }

    @inline(__always)
    mutating func offer(score: Double, row: Int32) {
        let entry = (score: score, row: row)
        if heap.count < limit {
            heap.append(entry)
            siftUp(heap.count - 1)
        } else if limit > 0, Self.worse(heap[0], entry) {
            heap[0] = entry
            siftDown(0)
        }
    }

    /// The score an offer must beat to be kept: the worst kept once full.
    /// Scans test it before offering, which skips the heap for almost
    /// every candidate of a large catalogue.
    var admissionScore: Double {
        if limit == 0 { return .infinity }
        return heap.count < limit ? -.infinity : heap[0].score
    }

    /// The kept pairs, best first.
    func sorted() -> [(score: Double, row: Int32)] {
        heap.sorted { Self.worse($1, $0) }
    }

    // Both sifts move a hole instead of swapping pairs, on the array's
    // buffer without bounds checks: one store per level, not three. With
    // Array subscripts and `swapAt`, siftDown was 4.5 of the 30 µs of a
    // top-10 over 10 k items on a daemon-sized model (perf).

    private mutating func siftUp(_ start: Int) {
        heap.withUnsafeMutableBufferPointer { heap in
            let entry = heap[start]
            var child = start
            while child > 0 {
                let parent = (child - 1) / 2
                guard Self.worse(entry, heap[parent]) else { break }
                heap[child] = heap[parent]
                child = parent
            }
            heap[child] = entry
        }
    }

    private mutating func siftDown(_ start: Int) {
        heap.withUnsafeMutableBufferPointer { heap in
            let entry = heap[start], count = heap.count
            var parent = start
            while true {
                let left = 2 * parent + 1
                guard left < count else { break }
                let right = left + 1
                let child = right < count && Self.worse(heap[right], heap[left]) ? right : left
                guard Self.worse(heap[child], entry) else { break }
                heap[parent] = heap[child]
                parent = child
            }
            heap[parent] = entry
        }
    }
}
