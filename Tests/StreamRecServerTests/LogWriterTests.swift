import Foundation
import StreamRecCore
@testable import StreamRecServer
import XCTest

/// The log writer on real files: segment rotation, recovery of what it wrote, pruning.
final class LogWriterTests: XCTestCase {
    private func directory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("srwal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    private func event(_ k: Int) -> LogRecord {
        .events([RatingEvent(user: .number(UInt64(k % 7)), item: .text("i\(k % 5)"), rating: Float(k % 4 + 1))])
    }

    /// Small segments roll over at their size limit; recovery over all of them rebuilds the model that saw every record.
    func testRotationAndRecovery() throws {
        let dir = try directory()
        var errors: [String] = []
        let writer = LogWriter(directory: dir, policy: .always, nextSequence: 0, segmentBytes: 200, now: 0) { _, line in errors.append(line) }
        var live = Model(settings: ModelSettings(factors: 3, learningRate: 0.05, regularization: 0.01, seed: 4))
        let start = live
        for k in 0..<60 {
            let record = k % 10 == 9 ? LogRecord.replay(count: 3) : event(k)
            writer.append(record)
            record.apply(to: &live)
            if k % 4 == 3 { XCTAssertTrue(writer.commit(now: Double(k))) }
        }
        writer.close(now: 100)
        XCTAssertEqual(errors, [])
        let segments = try DirectoryListing.logSegments(dir)
        XCTAssertGreaterThan(segments.count, 3, "200-byte segments rolled over")
        var recovered = start
        let report = try LogRecovery.recover(model: &recovered, from: 0, directory: dir, repair: false)
        XCTAssertEqual(report.nextSequence, 60)
        XCTAssertEqual(report.warnings, [])
        XCTAssertTrue(recovered == live, "the log rebuilds the model exactly")
    }

    /// prune(before:) deletes only segments whose records all precede the position, never the one being written.
    func testPruneKeepsWhatReplayNeeds() throws {
        let dir = try directory()
        let writer = LogWriter(directory: dir, policy: .no, nextSequence: 0, segmentBytes: 100, now: 0) { _, _ in }
        for k in 0..<30 {
            writer.append(event(k))
            writer.commit(now: 0)
        }
        let before = try DirectoryListing.logSegments(dir)
        let cut = before[2].first + 1  // inside the third segment
        writer.prune(before: cut)
        let after = try DirectoryListing.logSegments(dir)
        XCTAssertEqual(after.first?.first, before[2].first, "segments 0 and 1 go; the one holding \(cut) stays")
        XCTAssertEqual(after.count, before.count - 2)
        writer.prune(before: .max)
        XCTAssertEqual(try DirectoryListing.logSegments(dir).map(\.path), [writer.segmentPath!], "the open segment stays")
    }

    /// A writer whose directory does not exist starts broken, reports why, and works once the directory appears.
    func testStartsBrokenAndRetries() throws {
        let dir = try directory() + "/later"
        var errors: [String] = []
        let writer = LogWriter(directory: dir, policy: .everysec, nextSequence: 5, now: 0) { _, line in errors.append(line) }
        XCTAssertNotNil(writer.lastError)
        writer.append(event(1))
        XCTAssertFalse(writer.commit(now: 0.5), "no segment yet, and no retry before a second has passed")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        XCTAssertTrue(writer.commit(now: 1.5))
        XCTAssertNil(writer.lastError)
        XCTAssertTrue(writer.takeSnapshotRequest(), "a recovered log asks for a snapshot")
        writer.close(now: 2)
        var model = Model(settings: ModelSettings(factors: 2, learningRate: 0.1, regularization: 0, seed: 1))
        let report = try LogRecovery.recover(model: &model, from: 5, directory: dir, repair: false)
        XCTAssertEqual(report.nextSequence, 6)
        XCTAssertEqual(model.eventsApplied, 1)
        XCTAssertFalse(errors.isEmpty)
    }

    /// The fsync policy is a config key like any other: STREAMREC_FSYNC sets it, and an unknown value is refused by name.
    func testFsyncConfigKey() throws {
        XCTAssertEqual(DaemonConfig().fsync, .everysec)
        XCTAssertEqual(try ConfigLoader.load(file: nil, environment: ["STREAMREC_FSYNC": "always"]).fsync, .always)
        XCTAssertThrowsError(try ConfigLoader.load(file: nil, environment: ["STREAMREC_FSYNC": "sometimes"])) { error in
            XCTAssertTrue("\(error)".contains("fsync"), "\(error)")
        }
    }
}
