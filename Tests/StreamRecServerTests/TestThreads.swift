import Dispatch
import Foundation

/// Runs `body(n)` for each n in 0..<count, each on a thread of its own,
/// started at once; `finished(within:)` waits for all of them.
final class TestThreads: Sendable {
    private let group = DispatchGroup()

    init(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        for n in 0..<count {
            group.enter()
            Thread { [group] in
                defer { group.leave() }
                body(n)
            }.start()
        }
    }

    /// True when every thread finished within `seconds`.
    func finished(within seconds: Double) -> Bool { group.wait(timeout: .now() + seconds) == .success }
}

/// A flag and a counter safe to share between the test's threads.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    var isSet: Bool { lock.withLock { flag } }
    func set() { lock.withLock { flag = true } }
}

final class ManagedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}
