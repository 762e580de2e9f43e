import Foundation
@testable import StreamRecCore
import StreamRecServer
import XCTest

final class ReadWriteLockTests: XCTestCase {
    /// Readers scanning rows while a writer rewrites them never see a row whose floats disagree (a torn row); this fails if the lock is bypassed.
    func testConcurrentReadersNeverSeeTornRows() {
        var table = FactorTable(dimension: 64)
        table.values = [Float](repeating: 0, count: 256 * table.stride)
        let shared = ReadWriteLock(table)
        let stop = ManagedFlag()
        let torn = ManagedCounter(), reads = ManagedCounter()
        let writer = Thread {
            var value: Float = 1
            while !stop.isSet {
                for row in 0..<256 {
                    shared.write { table in
                        // Every float of the row in turn, as an SGD update writes it.
                        for f in 0..<table.stride { table.values[row * table.stride + f] = value }
                    }
                    value += 1
                }
            }
        }
        let readers = TestThreads(2) { _ in
            for n in 0..<4000 {
                let row = n % 256
                let consistent = shared.read { table -> Bool in
                    let first = table.values[row * table.stride]
                    return (0..<table.stride).allSatisfy { table.values[row * table.stride + $0] == first }
                }
                if !consistent { torn.increment() }
                reads.increment()
            }
        }
        writer.start()
        XCTAssertTrue(readers.finished(within: 60))
        stop.set()
        XCTAssertEqual(reads.value, 8000)
        XCTAssertEqual(torn.value, 0, "readers saw torn rows")
    }
}
