import Foundation
@testable import StreamRecCore
import StreamRecServer
import XCTest

final class ReadWriteLockTests: XCTestCase {
    /// Readers scanning rows while a writer rewrites them never see a row whose floats disagree (a torn row); the
    /// readers run only while the writer writes and must see it change the rows, so the test fails if the lock is
    /// bypassed.
    func testConcurrentReadersNeverSeeTornRows() {
        var table = FactorTable(dimension: 64)
        table.values = [Float](repeating: 0, count: 256 * table.stride)
        let shared = ReadWriteLock(table)
        let stop = ManagedFlag()
        let passes = ManagedCounter(), torn = ManagedCounter(), changes = ManagedCounter()
        let writer = TestThreads(1) { _ in
            var value: Float = 1
            while !stop.isSet {
                for row in 0..<256 {
                    shared.write { table in
                        // Every float of the row in turn, as an SGD update writes it.
                        for f in 0..<table.stride { table.values[row * table.stride + f] = value }
                    }
                    value += 1
                }
                passes.increment()
            }
        }
        // Readers start once every row has been written, and each reads until it has seen 2,000 rows change
        // (or 20 s pass), while the writer keeps writing.
        while passes.value < 1 { usleep(100) }
        let readers = TestThreads(2) { _ in
            var seen = [Float](repeating: 0, count: 256)
            var n = 0, changed = 0
            let deadline = Date().addingTimeInterval(20)
            while changed < 2_000, Date() < deadline {
                let row = n % 256
                n += 1
                let (consistent, first) = shared.read { table -> (Bool, Float) in
                    let first = table.values[row * table.stride]
                    return ((0..<table.stride).allSatisfy { table.values[row * table.stride + $0] == first }, first)
                }
                if !consistent { torn.increment() }
                if first != seen[row] {
                    changes.increment()
                    changed += 1
                }
                seen[row] = first
            }
        }
        XCTAssertTrue(readers.finished(within: 120))
        stop.set()
        XCTAssertTrue(writer.finished(within: 10))
        XCTAssertGreaterThanOrEqual(changes.value, 4_000, "the readers did not overlap the writer")
        XCTAssertEqual(torn.value, 0, "readers saw torn rows")
    }
}
