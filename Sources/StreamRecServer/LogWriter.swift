#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Logging
import StreamRecCore
import Synchronization

/// The daemon's write-ahead log: appends records in the order the engine
/// applies them, writes them out once per event-loop turn (group commit) and
/// forces them to disk as the `FsyncPolicy` says. Used from the loop thread
/// only; the everysec fdatasync runs on a private serial queue.
///
/// Group commit: records pile up in memory during a turn (all the ingest
/// messages drained in it, up to the 2 ms ingest budget) and go out in one
/// `write(2)` and, under `always`, one fdatasync, before the loop answers any
/// query. An `observe` under `always` is committed on its own, before its
/// reply. Writing per record was rejected: a syscall per ingest message
/// halves throughput; a timer-driven writer thread was rejected because it
/// would need the model's order handed across threads.
///
/// Disk trouble never stops the daemon. A failed write or fdatasync closes
/// the segment, keeps the unwritten records in memory (up to
/// `maxPendingBytes`) and retries once a second in a fresh segment starting
/// at the first unwritten record; recovery lets that segment supersede the
/// failed one. Past the cap the records are dropped: the log then has a gap,
/// `lastError` says so, and `takeSnapshotRequest` asks the loop for a
/// snapshot, which closes the gap (recovery starts after it).
public final class LogWriter: @unchecked Sendable {
    public let directory: String
    public let policy: FsyncPolicy
    /// A segment is closed and a new one started once it reaches this size.
    public let segmentBytes: Int
    public let maxPendingBytes: Int
    /// The sequence number the next record gets.
    public private(set) var nextSequence: UInt64
    /// What is wrong with the log right now, for `stats` (nil when healthy).
    public private(set) var lastError: String?
    /// Records dropped from the log (not from the model) while the disk failed.
    public private(set) var droppedRecords: UInt64 = 0

    private var pending: [UInt8] = []
    private var pendingHasEvents = false
    /// Sequence number of the first record in `pending`.
    private var pendingFirst: UInt64
    private var segment: Segment?
    private var retryAt = 0.0
    private var lastSync = 0.0
    private var lastCheck = 0.0
    private var snapshotWanted = false
    private let syncQueue = DispatchQueue(label: "streamrec.log-fsync")
    private let syncFailure = Locked<String?>(nil)
    private let log: (Logger.Level, String) -> Void

    private struct Segment {
        let fd: Int32
        let path: String
        var bytes: Int
        var dirty = false
    }

    /// Starts a writer whose first record will be `nextSequence`. The first
    /// segment is opened at once; if that fails the writer starts broken and
    /// retries (the daemon still serves). `log` receives each failure (at
    /// error level) and the recovery from one (at notice level).
    public init(directory: String, policy: FsyncPolicy, nextSequence: UInt64, segmentBytes: Int = 64 << 20,
                maxPendingBytes: Int = 64 << 20, now: Double, log: @escaping (Logger.Level, String) -> Void) {
        self.directory = directory
        self.policy = policy
        self.segmentBytes = max(WALFormat.headerSize + 1, segmentBytes)
        self.maxPendingBytes = maxPendingBytes
        self.nextSequence = nextSequence
        self.log = log
        pendingFirst = nextSequence
        lastSync = now
        lastCheck = now
        openSegment(now: now)
    }

    /// Path of the segment being written, if any.
    public var segmentPath: String? { segment?.path }

    // MARK: Appending

    /// Queues `record`; it is written at the next `commit`.
    public func append(_ record: LogRecord) {
        // Replay records alone do not make `always` sync: idle replay would
        // otherwise cost hundreds of fdatasyncs a second, and losing them
        // loses no event (recovery is then exact up to the last synced one).
        if case .events = record { pendingHasEvents = true }
        WALFormat.appendFrame(record, to: &pending)
        nextSequence += 1
        if segment == nil, pending.count > maxPendingBytes { dropPending() }
    }

    /// Logs `record` for an acknowledged request (`observe`): it is written
    /// before the reply under every policy (so a killed process never loses
    /// an acknowledged event), and synced too under `always`, where a failure
    /// takes it back (the caller must then not apply it) and throws.
    public func appendAcknowledged(_ record: LogRecord, now: Double) throws {
        let (mark, sequence) = (pending.count, nextSequence)
        append(record)
        let written = commit(now: now, force: policy == .always)
        guard policy == .always else { return }
        // Taken back only if it is still queued: once written and synced it
        // is in the log, and the caller must apply it.
        guard written else {
            if nextSequence == sequence + 1, pending.count > mark {
                pending.removeSubrange(mark...)
                nextSequence = sequence
            }
            throw DaemonError("the event was not logged durably: \(lastError ?? "log unavailable")")
        }
    }

    /// True once after records were lost from the log: a snapshot is needed
    /// to make the data directory self-contained again.
    public func takeSnapshotRequest() -> Bool {
        defer { snapshotWanted = false }
        return snapshotWanted
    }

    // MARK: Committing

    /// The group commit: writes what is queued and syncs as the policy says.
    /// Returns false when queued records could not be written (they stay queued).
    /// While broken, retries at most once a second unless `force`.
    @discardableResult
    public func commit(now: Double, force: Bool = false) -> Bool {
        if let failure = syncFailure.withLock({ f -> String? in defer { f = nil }; return f }) {
            fail("fdatasync failed: \(failure); records written in the last second may not survive power loss", now: now)
            snapshotWanted = true
        }
        if segment != nil, now - lastCheck >= 1 {
            lastCheck = now
            checkSegmentStillThere(now: now)
        }
        if segment == nil {
            guard force || now >= retryAt else { return pending.isEmpty }
            openSegment(now: now)
            guard segment != nil else { return pending.isEmpty }
        }
        if !pending.isEmpty {
            guard writePending(now: now) else { return false }
        }
        syncIfDue(now: now)
        return true
    }

    private func writePending(now: Double) -> Bool {
        guard var current = segment else { return false }
        let written = pending.withUnsafeBytes { writeAll(current.fd, $0) }
        guard written == nil else {
            fail("cannot write \(current.path): \(written!)", now: now)
            return false
        }
        let sync = policy == .always && pendingHasEvents
        if sync, fdatasync(current.fd) != 0 {
            fail("fdatasync \(current.path): \(String(cString: strerror(errno)))", now: now)
            return false
        }
        current.bytes += pending.count
        current.dirty = !sync
        segment = current
        pending.removeAll(keepingCapacity: pending.capacity <= 1 << 20)
        pendingHasEvents = false
        pendingFirst = nextSequence
        if current.bytes >= segmentBytes {
            closeSegment()
            openSegment(now: now)
        }
        return true
    }

    /// everysec: hand an fdatasync to the background queue once a second.
    private func syncIfDue(now: Double) {
        guard policy == .everysec, var current = segment, current.dirty, now - lastSync >= 1 else { return }
        lastSync = now
        current.dirty = false
        segment = current
        let (fd, path) = (current.fd, current.path)
        syncQueue.async { [self] in
            if fdatasync(fd) != 0 {
                let why = "\(path): \(String(cString: strerror(errno)))"
                syncFailure.withLock { $0 = why }
            }
        }
    }

    /// Writes out what is queued, syncs it whatever the policy, and closes the
    /// segment: for a clean shutdown.
    public func close(now: Double) {
        commit(now: now, force: true)
        closeSegment()
        syncQueue.sync {}
    }

    // MARK: Segments

    private func openSegment(now: Double) {
        let path = directory + "/" + WALFormat.fileName(first: pendingFirst)
        // O_TRUNC, not O_EXCL: a file of that name can only be a segment whose
        // records all failed to be written (see `appendAcknowledged` and
        // `fail`), and this one supersedes it.
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            fail("cannot create log segment \(path): \(String(cString: strerror(errno)))", now: now)
            return
        }
        let header = WALFormat.header(first: pendingFirst)
        if let error = header.withUnsafeBytes({ writeAll(fd, $0) }) {
            Glibc.close(fd)
            fail("cannot write log segment header \(path): \(error)", now: now)
            return
        }
        // The new file's name must survive power loss too, or its records
        // would be lost with it.
        if policy != .no {
            if fdatasync(fd) != 0 || (try? AtomicFile.syncDirectory(directory)) == nil {
                Glibc.close(fd)
                fail("cannot sync new log segment \(path): \(String(cString: strerror(errno)))", now: now)
                return
            }
        }
        segment = Segment(fd: fd, path: path, bytes: header.count)
        lastCheck = now
        if lastError != nil {
            log(.notice, "the log works again: new segment \(path)")
            lastError = nil
            // Whatever went wrong may have cost records or segments: a snapshot
            // makes the data directory self-contained again.
            snapshotWanted = true
        }
    }

    /// Closes the current segment behind any fdatasync still queued for it.
    private func closeSegment() {
        guard let current = segment else { return }
        segment = nil
        let sync = current.dirty
        syncQueue.async {
            if sync { _ = fdatasync(current.fd) }
            Glibc.close(current.fd)
        }
    }

    /// A deleted data directory leaves our fd writing into an unlinked file
    /// whose records no restart will see: notice it and start over.
    private func checkSegmentStillThere(now: Double) {
        guard let current = segment else { return }
        var info = stat()
        if fstat(current.fd, &info) == 0, info.st_nlink == 0 {
            fail("log segment \(current.path) was deleted (data directory removed?); records since the last check "
                 + "are lost from the log; retrying in a new segment", now: now)
            snapshotWanted = true
        }
    }

    private func fail(_ message: String, now: Double) {
        if lastError != message { log(.error, message) }
        lastError = message
        closeSegment()
        retryAt = now + 1
    }

    /// Gives up on queued records while the disk is failing: the model keeps
    /// them, the log has a gap, and a snapshot is requested to cover it.
    private func dropPending() {
        var dropped = 0
        var offset = 0
        while offset + 4 <= pending.count {
            let length = pending.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self))) }
            offset += WALFormat.frameOverhead + length
            dropped += 1
        }
        droppedRecords += UInt64(dropped)
        pending.removeAll()
        pendingHasEvents = false
        pendingFirst = nextSequence
        snapshotWanted = true
        let message = "dropped \(dropped) log records (\(maxPendingBytes) bytes queued while the disk failed); "
            + "the model has them but a crash before the next snapshot loses them"
        log(.error, message)
        lastError = message
    }

    /// Prunes segments whose records all precede `position` (the log position
    /// of the oldest snapshot kept): nothing will ever replay them.
    public func prune(before position: UInt64) {
        guard let segments = try? DirectoryListing.logSegments(directory) else { return }
        for (n, old) in segments.enumerated() where n + 1 < segments.count {
            guard segments[n + 1].first <= position, old.path != segment?.path else { break }
            unlink(old.path)
        }
    }

    private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> String? {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return String(cString: strerror(errno))
            }
            offset += n
        }
        return nil
    }
}
