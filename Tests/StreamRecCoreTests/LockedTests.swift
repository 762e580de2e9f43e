import Dispatch
import XCTest
@testable import StreamRecCore

/// `Locked` runs one body at a time.
final class LockedTests: XCTestCase {
    /// Read-modify-writes from four threads at once lose no update.
    func testConcurrentUpdatesAreNotLost() {
        let counter = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<20_000 {
                counter.withLock { value in
                    let read = value
                    value = read + 1
                }
            }
        }
        XCTAssertEqual(counter.withLock { $0 }, 80_000)
    }
}
