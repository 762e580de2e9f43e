#if canImport(Glibc)
import Glibc
#endif
import StreamRecCore

/// An exclusive `flock` on `LOCK` in the data directory, held while the
/// daemon runs, so that a second daemon on the same directory refuses to
/// start instead of replaying, pruning and overwriting the first one's log
/// and snapshots.
///
/// `flock` rather than a PID file checked by hand: the kernel drops the lock
/// when the process dies, however it dies, so a crash never leaves a stale
/// lock behind. The file holds the holder's PID for the error message only.
/// Taking it is also the first write into the directory, and a probe file is
/// created and removed next to it (the lock file exists after any earlier
/// run, so opening it proves nothing about creating files), so a directory
/// the daemon cannot write to is refused at start, not after it has taken
/// events it cannot log.
final class DataDirectoryLock {
    let path: String
    private var descriptor: Int32

    /// Creates the directory if missing and takes the lock, or throws naming
    /// the PID that holds it. Taken before anything reads or cleans the
    /// directory (the snapshot store removes leftover temporary files).
    init(directory: String) throws {
        try SnapshotStore.createDirectory(directory)
        path = directory + "/LOCK"
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw DaemonError("cannot write to the data directory: \(FileError("open", path))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = Self.readPID(descriptor)
            release()  // not `close`: a throwing init still runs deinit, which would close the number again
            guard code == EWOULDBLOCK else { throw DaemonError("\(FileError("flock", path, code: code))") }
            throw DaemonError("data directory \(directory) is in use by another streamrecd"
                + (holder.map { " (pid \($0))" } ?? "") + "; each daemon needs a --data-dir of its own")
        }
        let probe = "\(path).probe-\(getpid())"
        let probeDescriptor = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard probeDescriptor >= 0 else {
            let failure = FileError("create", probe)
            release()
            throw DaemonError("cannot write to the data directory: \(failure)")
        }
        close(probeDescriptor)
        unlink(probe)
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    /// Releases the lock (once); the file stays.
    func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }

    private static func readPID(_ descriptor: Int32) -> Int32? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int32(String(decoding: bytes[..<count].prefix { $0 >= 0x30 && $0 <= 0x39 }, as: UTF8.self))
    }
}
