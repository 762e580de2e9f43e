#if canImport(Glibc)
import Glibc
#endif

/// File-system failures, with the path and the OS's reason.
public struct FileError: Error, CustomStringConvertible, Equatable {
    public let operation: String
    public let path: String
    public let code: Int32

    public init(_ operation: String, _ path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    public var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
}

/// Whole-file reads and crash-safe whole-file writes.
public enum AtomicFile {
    /// Writes `bytes` to `path` so that a reader sees either the old file or
    /// the whole new one, even across a crash or power loss:
    /// write a temp file in the same directory, fsync it, rename it over
    /// `path`, then fsync the directory so the rename itself is durable.
    /// The temp file is removed on every failure path.
    public static func write(_ bytes: UnsafeRawBufferPointer, to path: String) throws {
        let directory = parentDirectory(of: path)
        let temp = "\(path).tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError("create", temp) }
        do {
            defer { close(fd) }
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileError("write", temp)
                }
                offset += n
            }
            guard fsync(fd) == 0 else { throw FileError("fsync", temp) }
        } catch {
            unlink(temp)
            throw error
        }
        guard rename(temp, path) == 0 else {
            let failure = FileError("rename to \(path)", temp)
            unlink(temp)
            throw failure
        }
        try syncDirectory(directory)
    }

    /// fsyncs a directory so entries created or renamed in it survive power loss.
    public static func syncDirectory(_ directory: String) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("open directory", directory) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileError("fsync directory", directory) }
    }

    /// Reads a whole file.
    public static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("open", path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileError("stat", path) }
        let size = Int(info.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var offset = 0
        while offset < size {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + offset, size - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError("read", path)
            }
            if n == 0 { break }
            offset += n
        }
        return Array(bytes[0..<offset])
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
