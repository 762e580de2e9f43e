#if canImport(Glibc)
import Glibc
#endif

/// Rebuilds a model from a snapshot's state plus the write-ahead log: the
/// records from the snapshot's log position on are applied in order.
///
/// Every segment is read up to its first bad record that is needed (a
/// damaged record the snapshot already holds is skipped when the framing
/// after it holds, see `LogSegmentReader.scan`). What happens then:
/// - a bad record that runs to the end of the file, or with only zeros after
///   it, is a torn tail (the process died mid-write, or power loss dropped
///   unsynced pages): with `repair` the file is truncated to its last intact
///   record, and recovery goes on;
/// - a bad record with other bytes after it is damage in the middle, which
///   may have intact records after it: replay stops there, as at a gap;
/// - either way, with `repair` the bytes cut are first copied to a file of
///   their own, `<segment>.damaged` (or `.damaged-2`, … when that exists),
///   kept for a post-mortem and never read again, since a flipped length
///   can make damage in the middle look like a torn tail;
/// - the next segment starting later than the next record needed, by its
///   name or by its header, is a gap (damage in the middle, or records
///   dropped while the disk was failing):
///   replay stops there, because applying later records to a model that
///   missed earlier ones would build a model no real history produced. With
///   `repair` the segments after the gap are renamed `*.damaged` (kept for a
///   post-mortem, never read again) so the new log can start at the gap.
/// - a segment starting *earlier* than needed overlaps the one before (the
///   writer retried a failed write in a new segment): records already
///   applied are skipped, so every sequence number is applied once.
///
/// The rejected alternative was refusing to start on any damage (Redis's
/// default for a corrupt AOF middle): a daemon that keeps serving what it can
/// prove, and says loudly what it lost, matches how damaged snapshots are
/// already handled here.
public enum LogRecovery {
    public struct Report: Sendable, Equatable {
        /// The next sequence number: where the new log continues.
        public var nextSequence: UInt64
        public var segmentsRead = 0
        public var recordsApplied = 0
        public var eventsApplied = 0
        /// Records read but already in the snapshot.
        public var recordsSkipped = 0
        /// Things an operator should know, one sentence each.
        public var warnings: [String] = []
        /// Bytes cut off segments, torn tails or damage (or that would be,
        /// without `repair`); each cut is kept in a `.damaged` file.
        public var bytesTruncated = 0
        /// Set when replay stopped at a gap: the first sequence number missing.
        public var gapAt: UInt64?
    }

    /// Applies the log in `directory` from `position` on to `model`.
    /// Throws only when the directory cannot be listed.
    public static func recover(model: inout Model, from position: UInt64, directory: String,
                               repair: Bool) throws -> Report {
        let segments = try DirectoryListing.logSegments(directory)
        var report = Report(nextSequence: position)
        var next = position
        // Nothing reads the model until recovery returns, so the neighbour
        // head is counted on a second thread meanwhile.
        let pipeline = NeighbourPipeline.start(detachingFrom: &model)
        defer { pipeline?.finish(into: &model) }
        for (n, segment) in segments.enumerated() {
            // A segment whose successor starts at or before `next` holds only
            // records the snapshot already has: skip it unread.
            if n + 1 < segments.count, segments[n + 1].first <= next { continue }
            if report.gapAt != nil {
                quarantine(segment.path, repair: repair, &report)
                continue
            }
            if segment.first > next {
                report.gapAt = next
                report.warnings.append("log gap: records \(next) ..< \(segment.first) are missing (log segment "
                    + "\(segment.path) starts at \(segment.first)); events after sequence \(next) are not recovered")
                quarantine(segment.path, repair: repair, &report)
                continue
            }
            let bytes: [UInt8]
            do { bytes = try AtomicFile.read(segment.path) } catch {
                report.gapAt = next
                report.warnings.append("log gap: cannot read log segment: \(error); events after sequence \(next) are not recovered")
                continue
            }
            // A later segment starting inside this one superseded its tail:
            // the writer retried a failed write there, and its copy wins.
            let limit = n + 1 < segments.count ? segments[n + 1].first : UInt64.max
            let scan: LogSegmentScan
            let from = next
            do {
                scan = try bytes.withUnsafeBytes { raw in
                    try LogSegmentReader.scan(raw, from: from) { sequence, record in
                        // A first record needed after `next` (the header starts
                        // later than the name says): records are missing before
                        // it, so none of this segment applies (see below).
                        guard sequence == next || sequence >= limit else { return }
                        guard sequence < limit else {
                            report.recordsSkipped += 1
                            return
                        }
                        record.apply(to: &model)
                        pipeline?.handOver(from: &model)
                        next = sequence + 1
                        report.recordsApplied += 1
                        report.eventsApplied += record.eventCount
                    }
                }
            } catch {
                // A header cut short by a crash while the segment was being
                // created: the last file, holding nothing. Anything else is damage.
                if n == segments.count - 1, bytes.count < WALFormat.headerSize {
                    report.warnings.append("log segment \(segment.path) has an incomplete header (\(bytes.count) bytes, "
                        + "a crash while it was created); \(repair ? "removed" : "ignored")")
                    if repair { unlink(segment.path) }
                } else {
                    report.gapAt = next
                    report.warnings.append("log segment \(segment.path) is unusable: \(error); "
                        + "events after sequence \(next) are not recovered")
                    quarantine(segment.path, because: "is damaged", repair: repair, &report)
                }
                continue
            }
            // A header starting after `next` (and before the next segment takes
            // over) leaves records missing, whether or not any record followed.
            if scan.first > from && scan.first < limit {
                report.gapAt = next
                report.warnings.append("log gap: log segment \(segment.path) starts at \(scan.first), its name at "
                    + "\(segment.first); records \(next) ..< \(scan.first) are missing and events after sequence \(next) are not recovered")
                quarantine(segment.path, because: "is damaged", repair: repair, &report)
                continue
            }
            report.segmentsRead += 1
            report.recordsSkipped += Int(min(scan.end, from) - min(scan.first, from))
            if scan.first != segment.first {
                report.warnings.append("log segment \(segment.path) says it starts at \(scan.first), its name at \(segment.first)")
            }
            for skipped in scan.damagedSkipped {
                report.warnings.append("log segment \(segment.path): record \(skipped.sequence) at byte \(skipped.offset) "
                    + "is damaged (\(skipped.damage)) but the snapshot holds it; skipped, the records after it are intact")
            }
            if let damage = scan.damage {
                let cut = bytes.count - scan.validLength
                let kept = repair ? setAside(bytes, from: scan.validLength, of: segment, next: next, &report) : nil
                if !repair || kept != nil { report.bytesTruncated += cut }
                let fate = !repair ? "" : kept.map { "; kept in \($0)" } ?? "; left whole, since no copy could be kept"
                // Superseded by the next segment (a retried write), or torn.
                if scan.tornTail || limit <= scan.end {
                    let verb = !repair ? "would truncate" : kept != nil ? "truncated" : "did not truncate"
                    report.warnings.append("log segment \(segment.path): \(damage); "
                        + "\(verb) \(cut) bytes after sequence \(scan.end)\(fate)")
                } else {
                    report.gapAt = next
                    report.warnings.append("log segment \(segment.path) is damaged at byte \(scan.validLength) "
                        + "(\(damage)), with \(cut) bytes after it that may hold intact records; "
                        + "events after sequence \(next) are not recovered\(repair ? fate : "; not repaired")")
                }
            }
        }
        report.nextSequence = next
        return report
    }

    /// Copies `bytes[start...]` of a segment to a `.damaged` file of their
    /// own, durably, then cuts them from the segment, and returns that
    /// file's path. When the copy fails the segment stays whole, and the
    /// new log's first segment supersedes its tail on the next recovery;
    /// unless the new log would start at this segment's own name (`next`
    /// is its first sequence: no record of it was intact), which would
    /// truncate it, so then the whole segment is set aside instead.
    private static func setAside(_ bytes: [UInt8], from start: Int, of segment: (first: UInt64, path: String), next: UInt64,
                                 _ report: inout Report) -> String? {
        let kept = damagedPath(for: segment.path)
        do {
            try bytes[start...].withUnsafeBytes { try AtomicFile.write($0, to: kept) }
        } catch {
            report.warnings.append("cannot keep the damaged bytes of \(segment.path): \(error)")
            if segment.first == next { quarantine(segment.path, because: "has no intact record", repair: true, &report) }
            return nil
        }
        if truncate(segment.path, off_t(start)) != 0 { report.warnings.append("\(FileError("truncate", segment.path))") }
        return kept
    }

    /// `<path>.damaged`, or `.damaged-2`, `-3`, … when that exists: an
    /// earlier post-mortem copy is never overwritten.
    static func damagedPath(for path: String) -> String {
        var candidate = path + ".damaged", n = 2
        while access(candidate, F_OK) == 0 {
            candidate = "\(path).damaged-\(n)"
            n += 1
        }
        return candidate
    }

    /// Sets a segment aside (renamed `*.damaged` with `repair`), saying why:
    /// it follows a gap, or the gap is in it.
    private static func quarantine(_ path: String, because reason: String = "follows a gap", repair: Bool,
                                   _ report: inout Report) {
        let kept = damagedPath(for: path)
        report.warnings.append("log segment \(path) \(reason); \(repair ? "renamed to \(kept)" : "not read")")
        if repair { rename(path, kept) }
    }
}
