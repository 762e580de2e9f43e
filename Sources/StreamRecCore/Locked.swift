import Foundation

/// A value shared between threads, read and written only under its lock.
///
/// A pthread mutex (`NSLock`) rather than `Synchronization.Mutex`: on Linux
/// the latter locks with raw futex calls that ThreadSanitizer cannot see, so
/// a TSan run reports every access it guards as a race (a two-thread program
/// appending under one `Mutex` does), and a real race near it would drown in
/// them. The cost is a call instead of an inlined atomic, nothing at the
/// few locks per job or batch where this is used. `@unchecked Sendable`: the
/// lock is what makes sharing safe, as long as `body` lets no reference into
/// the value escape.
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    /// Runs `body` with the value while holding the lock.
    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
