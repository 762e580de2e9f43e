#if canImport(Glibc)
import Glibc
#endif

/// A writer-preferring reader–writer lock (pthread) around a value.
///
/// Query workers read the model concurrently; the ingest thread takes the
/// write side for each chunk of events it applies (`Daemon.ingestChunk`), so
/// a reader never sees a row half-updated. We chose this over a seqlock per
/// row (readers would need a retry loop around every row they score, and row
/// storage that never moves as the tables grow) and over publishing copies of the model (each
/// copy-on-write publish costs a full copy of the tables the writer touches
/// next). Writer preference keeps a stream of queries from starving ingest;
/// a reader waits at most for one chunk (or one `observe`, or one replay slice).
public final class ReadWriteLock<Value>: @unchecked Sendable {
    private var lock = pthread_rwlock_t()
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        pthread_rwlock_init(&lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
    }

    deinit { pthread_rwlock_destroy(&lock) }

    /// Runs `body` with shared access; other readers may run at the same time.
    @inline(__always)
    public func read<T>(_ body: (Value) throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(&lock)
        defer { pthread_rwlock_unlock(&lock) }
        return try body(value)
    }

    /// Runs `body` with exclusive access.
    @inline(__always)
    public func write<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(&lock)
        defer { pthread_rwlock_unlock(&lock) }
        return try body(&value)
    }
}
