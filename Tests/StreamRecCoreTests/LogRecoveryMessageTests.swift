import Foundation
import XCTest
@testable import StreamRecCore

/// Write-ahead log recovery over damaged segments on disk: what it applies, where it stops, what it
/// cuts or renames, and that each warning names the file and says what is wrong.
final class LogRecoveryMessageTests: XCTestCase {
    /// Record k holds k % 3 + 1 events, so event counts and record counts differ.
    private static func records(_ range: Range<Int>) -> [LogRecord] {
        range.map { k in
            .events((0...(k % 3)).map { e in
                RatingEvent(user: .number(UInt64(k)), item: .number(UInt64(e)), rating: Float(k % 5 + 1))
            })
        }
    }

    private static func segment(first: UInt64, _ records: [LogRecord]) -> [UInt8] {
        var bytes = WALFormat.header(first: first)
        for record in records { WALFormat.appendFrame(record, to: &bytes) }
        return bytes
    }

    private static func newModel() -> Model {
        Model(settings: ModelSettings(factors: 2, learningRate: 0.1, regularization: 0, seed: 1))
    }

    /// The model that saw exactly `records`, in order.
    private static func model(applying records: [LogRecord]) -> Model {
        var model = newModel()
        for record in records { record.apply(to: &model) }
        return model
    }

    private func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("srlogmsg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    /// Writes `bytes` as the segment file named for `first`; returns its path.
    @discardableResult
    private func write(_ bytes: [UInt8], first: UInt64, in dir: String) throws -> String {
        let path = dir + "/" + WALFormat.fileName(first: first)
        try bytes.withUnsafeBytes { try AtomicFile.write($0, to: path) }
        return path
    }

    private func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// Asserts that one warning contains every fragment.
    private func assertWarning(_ report: LogRecovery.Report, contains fragments: [String],
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(report.warnings.contains { w in fragments.allSatisfy { w.contains($0) } },
                      "no warning contains \(fragments); warnings: \(report.warnings)", file: file, line: line)
    }

    /// A torn last frame is cut off the last segment with repair, the records before it are all applied, and the warning names the file, the torn record and the bytes cut.
    func testTornTailIsTruncatedAndTheWarningSaysWhere() throws {
        let dir = try temporaryDirectory()
        let log = Self.records(0..<6)
        try write(Self.segment(first: 0, Array(log[..<3])), first: 0, in: dir)
        let intact = Self.segment(first: 3, Array(log[3...]))
        let torn = Array(WALFormat.frame(Self.records(6..<7)[0]).prefix(10))
        let path = try write(intact + torn, first: 3, in: dir)

        var model = Self.newModel()
        let report = try LogRecovery.recover(model: &model, from: 0, directory: dir, repair: true)
        XCTAssertEqual(model, Self.model(applying: log))
        XCTAssertEqual(report.recordsApplied, 6)
        XCTAssertEqual(report.eventsApplied, log.reduce(0) { $0 + $1.eventCount })
        XCTAssertEqual(report.nextSequence, 6)
        XCTAssertNil(report.gapAt, "a torn tail is not a gap")
        XCTAssertEqual(report.bytesTruncated, 10)
        XCTAssertEqual(try AtomicFile.read(path), intact, "cut back to the last intact record on disk")
        XCTAssertEqual(try AtomicFile.read(path + ".damaged"), torn, "what was cut is kept")
        XCTAssertEqual(report.warnings.count, 1, "\(report.warnings)")
        assertWarning(report, contains: ["log segment \(path): ",
                                         "truncated while reading record at byte \(intact.count)",
                                         "; truncated 10 bytes after sequence 6"])
    }

    /// A flipped checksum byte in the last segment's last record is a torn tail: without repair the file is left alone and the warning says "checksum mismatch" and "would truncate".
    func testFlippedChecksumOfTheLastRecordWithoutRepairWouldTruncate() throws {
        let dir = try temporaryDirectory()
        let log = Self.records(0..<4)
        var bytes = Self.segment(first: 0, log)
        let last = bytes.count - WALFormat.frame(log[3]).count
        bytes[last + 4] ^= 0x01  // first byte of record 3's CRC
        let path = try write(bytes, first: 0, in: dir)

        var model = Self.newModel()
        let report = try LogRecovery.recover(model: &model, from: 0, directory: dir, repair: false)
        XCTAssertEqual(model, Self.model(applying: Array(log[..<3])))
        XCTAssertEqual(report.recordsApplied, 3)
        XCTAssertEqual(report.nextSequence, 3)
        XCTAssertNil(report.gapAt, "a torn tail is not a gap")
        XCTAssertEqual(report.bytesTruncated, bytes.count - last)
        XCTAssertEqual(try AtomicFile.read(path), bytes, "nothing changes on disk without repair")
        XCTAssertEqual(report.warnings.count, 1, "\(report.warnings)")
        assertWarning(report, contains: ["log segment \(path): checksum mismatch (stored 0x",
                                         "the file is damaged; would truncate \(bytes.count - last) bytes after sequence 3"])
    }

    /// A flipped byte in a needed record with intact records after it stops replay there (a gap), and with repair keeps those bytes in `*.damaged` before cutting them, so the intact prefix stays in the log and nothing is destroyed.
    func testDamageInTheMiddleOfTheLastSegmentIsKeptNotTruncated() throws {
        let dir = try temporaryDirectory()
        let log = Self.records(0..<4)
        var bytes = Self.segment(first: 0, log)
        let second = WALFormat.headerSize + WALFormat.frame(log[0]).count
        bytes[second + WALFormat.frameOverhead + 1] ^= 0x01  // inside record 1's body; records 2 and 3 follow intact
        let path = try write(bytes, first: 0, in: dir)

        var model = Self.newModel()
        let dry = try LogRecovery.recover(model: &model, from: 0, directory: dir, repair: false)
        XCTAssertEqual(dry.gapAt, 1)
        XCTAssertEqual(try AtomicFile.read(path), bytes, "nothing changes on disk without repair")
        assertWarning(dry, contains: ["log segment \(path) is damaged at byte \(second)", "may hold intact records",
                                      "events after sequence 1 are not recovered; not repaired"])

        model = Self.newModel()
        let report = try LogRecovery.recover(model: &model, from: 0, directory: dir, repair: true)
        XCTAssertEqual(model, Self.model(applying: [log[0]]), "replay stops at the damage, as at a gap")
        XCTAssertEqual(report.nextSequence, 1)
        XCTAssertEqual(report.gapAt, 1)
        XCTAssertEqual(try AtomicFile.read(path), Array(bytes[..<second]), "the segment keeps its intact records")
        XCTAssertEqual(try AtomicFile.read(path + ".damaged"), Array(bytes[second...]), "the rest is kept, byte for byte")
        assertWarning(report, contains: ["; kept in \(path).damaged"])

        // Damaged again before a snapshot: the second copy does not overwrite the first.
        var again = try AtomicFile.read(path)
        again[again.count - 2] ^= 0x01
        try again.withUnsafeBytes { try AtomicFile.write($0, to: path) }
        model = Self.newModel()
        _ = try LogRecovery.recover(model: &model, from: 0, directory: dir, repair: true)
        XCTAssertEqual(try AtomicFile.read(path + ".damaged"), Array(bytes[second...]), "the first copy is kept")
        XCTAssertEqual(try AtomicFile.read(path + ".damaged-2"), Array(again[WALFormat.headerSize...]))
    }

    /// A damaged record the snapshot already holds costs nothing when the framing after it holds: the records after it are applied, and the warning says it was skipped.
    func testDamageBeforeTheSnapshotPositionIsSkipped() throws {
        let dir = try temporaryDirectory()
        let log = Self.records(0..<6)
        var bytes = Self.segment(first: 0, log)
        let second = WALFormat.headerSize + WALFormat.frame(log[0]).count
        // The low mantissa byte of record 1's last rating: the body still decodes. The snapshot holds 0 ..< 3.
        bytes[second + WALFormat.frame(log[1]).count - 4] ^= 0x01
        let path = try write(bytes, first: 0, in: dir)

        var model = Self.model(applying: Array(log[..<3]))
        let report = try LogRecovery.recover(model: &model, from: 3, directory: dir, repair: true)
        XCTAssertEqual(model, Self.model(applying: log), "records 3 ..< 6 applied after the snapshot's")
        XCTAssertEqual(report.nextSequence, 6)
        XCTAssertNil(report.gapAt)
        XCTAssertEqual(report.bytesTruncated, 0)
        XCTAssertEqual(try AtomicFile.read(path), bytes, "nothing cut")
        assertWarning(report, contains: ["log segment \(path): record 1 at byte \(second) is damaged", "but the snapshot holds it; skipped"])
    }

    /// A middle segment with a damaged header is unusable: replay stops at its first record, it and every later segment are renamed *.damaged, and the warning names it and the checksum failure.
    func testBadHeaderInMiddleSegmentStopsReplayAndQuarantines() throws {
        let dir = try temporaryDirectory()
        let log = Self.records(0..<9)
        let first = try write(Self.segment(first: 0, Array(log[0..<3])), first: 0, in: dir)
        var middle = Self.segment(first: 3, Array(log[3..<6]))
        middle[16] ^= 0x04  // a bit of the header's first sequence number, under the header CRC
        let bad = try write(middle, first: 3, in: dir)
        let after = try write(Self.segment(first: 6, Array(log[6..<9])), first: 6, in: dir)

        var model = Self.newModel()
        let report = try LogRecovery.recover(model: &model, from: 0, directory: dir, repair: true)
        XCTAssertEqual(model, Self.model(applying: Array(log[0..<3])), "nothing after the damaged segment is applied")
        XCTAssertEqual(report.recordsApplied, 3)
        XCTAssertEqual(report.segmentsRead, 1)
        XCTAssertEqual(report.gapAt, 3)
        XCTAssertEqual(report.nextSequence, 3)
        XCTAssertTrue(exists(first))
        XCTAssertFalse(exists(bad))
        XCTAssertTrue(exists(bad + ".damaged"))
        XCTAssertFalse(exists(after))
        XCTAssertTrue(exists(after + ".damaged"))
        XCTAssertEqual(report.warnings.count, 3, "\(report.warnings)")
        assertWarning(report, contains: ["log segment \(bad) is unusable: checksum mismatch (stored 0x", "the file is damaged"])
        assertWarning(report, contains: ["log segment \(bad) is damaged; renamed to \(bad).damaged"])
        assertWarning(report, contains: ["log segment \(after) follows a gap; renamed to \(after).damaged"])
    }

    /// A last segment shorter than a header is a crash while creating it: ignored without repair, removed with it, never a gap, and the warning names it and its byte count.
    func testIncompleteHeaderOnLastSegmentIsIgnoredOrRemoved() throws {
        let dir = try temporaryDirectory()
        let log = Self.records(0..<3)
        try write(Self.segment(first: 0, log), first: 0, in: dir)
        let short = try write(Array(WALFormat.header(first: 3).prefix(11)), first: 3, in: dir)

        var looked = Self.newModel()
        let dryRun = try LogRecovery.recover(model: &looked, from: 0, directory: dir, repair: false)
        XCTAssertEqual(dryRun.warnings, ["log segment \(short) has an incomplete header (11 bytes, a crash while it was created); ignored"])
        XCTAssertTrue(exists(short), "left alone without repair")

        var model = Self.newModel()
        let report = try LogRecovery.recover(model: &model, from: 0, directory: dir, repair: true)
        XCTAssertEqual(model, Self.model(applying: log))
        XCTAssertEqual(report.recordsApplied, 3)
        XCTAssertEqual(report.nextSequence, 3)
        XCTAssertNil(report.gapAt, "an empty last segment loses nothing")
        XCTAssertEqual(report.bytesTruncated, 0)
        XCTAssertFalse(exists(short), "removed with repair")
        XCTAssertEqual(report.warnings.count, 1, "\(report.warnings)")
        assertWarning(report, contains: ["log segment \(short) has an incomplete header (11 bytes, a crash while it was created); removed"])
    }

    /// Missing sequence numbers stop replay at the first one: the warning gives the missing range, and each later segment is named as not read (and kept as is without repair).
    func testGapWarningGivesTheMissingRangeAndNamesSkippedSegments() throws {
        let dir = try temporaryDirectory()
        let log = Self.records(0..<12)
        try write(Self.segment(first: 0, Array(log[0..<4])), first: 0, in: dir)
        let later = try write(Self.segment(first: 6, Array(log[6..<10])), first: 6, in: dir)
        let last = try write(Self.segment(first: 10, Array(log[10..<12])), first: 10, in: dir)

        var model = Self.newModel()
        let report = try LogRecovery.recover(model: &model, from: 0, directory: dir, repair: false)
        XCTAssertEqual(model, Self.model(applying: Array(log[0..<4])))
        XCTAssertEqual(report.recordsApplied, 4)
        XCTAssertEqual(report.eventsApplied, log[0..<4].reduce(0) { $0 + $1.eventCount })
        XCTAssertEqual(report.gapAt, 4)
        XCTAssertEqual(report.nextSequence, 4)
        XCTAssertTrue(exists(later) && exists(last), "not renamed without repair")
        XCTAssertEqual(report.warnings.count, 3, "\(report.warnings)")
        assertWarning(report, contains: ["log gap: records 4 ..< 6 are missing (log segment \(later) starts at 6)",
                                         "events after sequence 4 are not recovered"])
        assertWarning(report, contains: ["log segment \(later) follows a gap; not read"])
        assertWarning(report, contains: ["log segment \(last) follows a gap; not read"])
    }

    /// A segment that cannot be opened (a dangling link under a segment's name) stops replay there, and the warning names the file and the system's reason.
    func testUnreadableSegmentStopsReplayAndNamesTheFile() throws {
        let dir = try temporaryDirectory()
        let log = Self.records(0..<6)
        try write(Self.segment(first: 0, Array(log[0..<3])), first: 0, in: dir)
        let unreadable = dir + "/" + WALFormat.fileName(first: 3)
        try FileManager.default.createSymbolicLink(atPath: unreadable, withDestinationPath: dir + "/nowhere")
        let after = try write(Self.segment(first: 5, Array(log[5..<6])), first: 5, in: dir)

        var model = Self.newModel()
        let report = try LogRecovery.recover(model: &model, from: 0, directory: dir, repair: true)
        XCTAssertEqual(model, Self.model(applying: Array(log[0..<3])))
        XCTAssertEqual(report.recordsApplied, 3)
        XCTAssertEqual(report.gapAt, 3)
        XCTAssertEqual(report.nextSequence, 3)
        XCTAssertTrue(exists(after + ".damaged"), "segments after it are quarantined")
        XCTAssertEqual(report.warnings.count, 2, "\(report.warnings)")
        assertWarning(report, contains: ["log gap: cannot read log segment: open \(unreadable): No such file or directory",
                                         "events after sequence 3 are not recovered"])
        assertWarning(report, contains: ["log segment \(after) follows a gap; renamed to \(after).damaged"])
    }

    /// A segment whose header disagrees with its file name is numbered by its header, and the warning names the file and both numbers.
    func testHeaderDisagreeingWithFileNameIsNumberedByHeaderAndReported() throws {
        let dir = try temporaryDirectory()
        let log = Self.records(0..<4)
        try write(Self.segment(first: 0, Array(log[0..<3])), first: 0, in: dir)
        // Named for 3 but holding records 1, 2, 3: the first two are already applied.
        let misnamed = try write(Self.segment(first: 1, Array(log[1..<4])), first: 3, in: dir)

        var model = Self.newModel()
        let report = try LogRecovery.recover(model: &model, from: 0, directory: dir, repair: false)
        XCTAssertEqual(model, Self.model(applying: log), "each record applied once")
        XCTAssertEqual(report.recordsApplied, 4)
        XCTAssertEqual(report.recordsSkipped, 2)
        XCTAssertEqual(report.segmentsRead, 2)
        XCTAssertEqual(report.nextSequence, 4)
        XCTAssertNil(report.gapAt)
        XCTAssertEqual(report.warnings, ["log segment \(misnamed) says it starts at 1, its name at 3"])
    }

    /// A segment whose header starts later than its name (records missing in between) is a gap, not a skip: none of
    /// it applies, replay stops at the first missing record, and the warning gives the missing range.
    func testHeaderStartingAfterItsNameIsAGap() throws {
        let dir = try temporaryDirectory()
        let log = Self.records(0..<7)
        try write(Self.segment(first: 0, Array(log[0..<3])), first: 0, in: dir)
        // Named for 3, the next record needed, but holding records 5 and 6: 3 and 4 are lost.
        let misnamed = try write(Self.segment(first: 5, Array(log[5..<7])), first: 3, in: dir)

        var model = Self.newModel()
        let report = try LogRecovery.recover(model: &model, from: 0, directory: dir, repair: true)
        XCTAssertEqual(model, Self.model(applying: Array(log[0..<3])), "nothing after the missing records applies")
        XCTAssertEqual(report.recordsApplied, 3)
        XCTAssertEqual(report.gapAt, 3)
        XCTAssertEqual(report.nextSequence, 3)
        assertWarning(report, contains: ["log gap: log segment \(misnamed) starts at 5, its name at 3",
                                         "records 3 ..< 5 are missing"])
        XCTAssertTrue(exists(misnamed + ".damaged") && !exists(misnamed), "the segment is kept aside for a post-mortem")
    }

    /// A last segment holding only its header, which starts later than its name and the next record needed, is a
    /// gap too (nothing to apply, but the log must not continue in that file as if no record were missing).
    func testHeaderOnlySegmentStartingLaterIsAGap() throws {
        let dir = try temporaryDirectory()
        let log = Self.records(0..<3)
        try write(Self.segment(first: 0, log), first: 0, in: dir)
        let empty = try write(Self.segment(first: 5, []), first: 3, in: dir)

        var model = Self.newModel()
        let report = try LogRecovery.recover(model: &model, from: 0, directory: dir, repair: true)
        XCTAssertEqual(report.recordsApplied, 3)
        XCTAssertEqual(report.gapAt, 3)
        assertWarning(report, contains: ["log gap: log segment \(empty) starts at 5, its name at 3", "records 3 ..< 5 are missing"])
        XCTAssertTrue(exists(empty + ".damaged") && !exists(empty))
    }

    /// A log directory that cannot be listed makes recovery throw (not warn), with an error naming the directory and the reason, and the model untouched.
    func testUnlistableDirectoryThrowsNamingIt() throws {
        let missing = try temporaryDirectory() + "/no-such-log"
        var model = Self.model(applying: Self.records(0..<2))
        let before = model
        XCTAssertThrowsError(try LogRecovery.recover(model: &model, from: 0, directory: missing, repair: true)) { error in
            XCTAssertEqual("\(error)", "list directory \(missing): No such file or directory")
        }
        XCTAssertEqual(model, before)
    }
}
