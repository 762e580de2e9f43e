import Foundation
import StreamRecCore

/// A snapshot written or restored: where, how big, when, and how long it took.
public struct SnapshotInfo: Sendable, Equatable {
    public var path: String
    public var bytes: Int
    public var createdAtMillis: UInt64
    public var milliseconds: Double
    /// The first write-ahead log record the snapshot does not include.
    public var logPosition: UInt64 = 0
}

/// The snapshot files in the data directory: naming, writing, pruning and
/// finding the newest one that loads.
///
/// Files are named `snapshot-<unix ms, 16 digits>.srs`, so name order is age
/// order. A file that fails to load is renamed `*.damaged` (kept for a
/// post-mortem, never loaded or pruned again) and the next older one is tried.
public struct SnapshotStore: Sendable {
    public let directory: String
    public let kept: Int
    static let prefix = "snapshot-"
    static let suffix = ".srs"

    /// Creates the directory if needed and removes temp files a crash left.
    /// Creates `directory` and its parents if missing, or throws with the system's reason.
    static func createDirectory(_ directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            // mkdir again for the system's own reason (FileManager's error text is "error 512").
            let reason = mkdir(directory, 0o755) == 0 ? "\(error)" : String(cString: strerror(errno))
            throw DaemonError("cannot create data directory \(directory): \(reason)")
        }
    }

    public init(directory: String, kept: Int = 2) throws {
        self.directory = directory
        self.kept = max(1, kept)
        try Self.createDirectory(directory)
        for name in try listing() where name.contains(Self.suffix + ".tmp-") {
            unlink(path(name))
        }
    }

    private func listing() throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw DaemonError("cannot list data directory \(directory): \(error.localizedDescription)")
        }
    }

    private func path(_ name: String) -> String { directory + "/" + name }

    /// Snapshot files, oldest first.
    public func snapshots() throws -> [String] {
        try listing()
            .filter { $0.hasPrefix(Self.prefix) && $0.hasSuffix(Self.suffix) }
            .sorted()
            .map(path)
    }

    /// Writes `model` as a new snapshot (atomically), then deletes all but the
    /// newest `kept`. Safe to call from a background thread on a frozen copy.
    public func write(_ model: Model, logPosition: UInt64 = 0) throws -> SnapshotInfo {
        let start = Clock.monotonic()
        var millis = Clock.unixMillis()
        let existing = try snapshots()
        // Two snapshots in one millisecond must not share a name.
        if let newest = existing.last, let newestMillis = Self.millis(of: newest), newestMillis >= millis {
            millis = newestMillis + 1
        }
        let target = path(Self.prefix + String(repeating: "0", count: max(0, 16 - String(millis).count)) + String(millis) + Self.suffix)
        let bytes = SnapshotFormat.encode(model, createdAtMillis: millis, logPosition: logPosition)
        try bytes.withUnsafeBytes { try AtomicFile.write($0, to: target) }
        for old in (existing + [target]).dropLast(kept) { unlink(old) }
        return SnapshotInfo(path: target, bytes: bytes.count, createdAtMillis: millis,
                            milliseconds: (Clock.monotonic() - start) * 1000, logPosition: logPosition)
    }

    static func millis(of path: String) -> UInt64? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return UInt64(name.dropFirst(prefix.count).dropLast(suffix.count))
    }

    /// Loads the newest snapshot that is intact. Damaged ones are reported
    /// through `warn`, renamed `*.damaged`, and skipped. Nil when there is none.
    /// `upgrade` supplies what files from before a setting existed lack.
    public func restoreNewest(upgrade: ModelSettings = ModelSettings(), warn: (String) -> Void) throws
        -> (model: Model, info: SnapshotInfo)? {
        for file in try snapshots().reversed() {
            let start = Clock.monotonic()
            do {
                let bytes = try AtomicFile.read(file)
                let (model, created, position) = try bytes.withUnsafeBytes { try SnapshotFormat.decode($0, upgrade: upgrade) }
                return (model, SnapshotInfo(path: file, bytes: bytes.count, createdAtMillis: created,
                                            milliseconds: (Clock.monotonic() - start) * 1000, logPosition: position))
            } catch {
                warn("snapshot \(file) is unusable: \(error); renamed to \(file).damaged, trying the previous one")
                rename(file, file + ".damaged")
            }
        }
        return nil
    }

    /// The log position of the oldest snapshot kept: log segments wholly
    /// before it can go. Nil (prune nothing) if any snapshot's header cannot
    /// be read, so a damaged snapshot never costs the log that could replace it.
    public func oldestKeptLogPosition() -> UInt64? {
        guard let files = try? snapshots(), !files.isEmpty else { return nil }
        var oldest = UInt64.max
        for file in files {
            guard let handle = FileHandle(forReadingAtPath: file) else { return nil }
            defer { try? handle.close() }
            guard let prefix = try? handle.read(upToCount: 32),
                  let position = prefix.withUnsafeBytes({ SnapshotFormat.logPosition(ofPrefix: $0) })
            else { return nil }
            oldest = min(oldest, position)
        }
        return oldest
    }
}
