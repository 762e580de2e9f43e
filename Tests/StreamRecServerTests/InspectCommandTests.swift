import Foundation
import StreamRecCore
import StreamRecServer
import XCTest

/// `streamrec inspect FILE`, run as the real executable on real files.
final class InspectCommandTests: XCTestCase {
    private func inspect(_ path: String) throws -> (status: Int32, output: String) {
        let executable = try XCTUnwrap(E2EExecutable.url("streamrec"), "streamrec not built")
        return try e2eRun(executable, ["inspect", path])
    }

    /// An intact segment and snapshot print their counts and `status: ok` (exit 0); a torn segment and a bit-flipped
    /// snapshot print `status: damaged` with the reason (exit 1).
    func testInspectReportsCountsAndDamage() throws {
        let dir = e2eTemporaryDirectory(self)
        var segment = WALFormat.header(first: 7)
        let events = (0..<3).map { RatingEvent(user: .number(UInt64($0)), item: .text("x"), rating: 2) }
        WALFormat.appendFrame(.events(events), to: &segment)
        WALFormat.appendFrame(.replay(count: 9), to: &segment)
        let segmentPath = dir + "/" + WALFormat.fileName(first: 7)
        try segment.withUnsafeBytes { try AtomicFile.write($0, to: segmentPath) }
        let intact = try inspect(segmentPath)
        XCTAssertEqual(intact.status, 0, intact.output)
        for line in ["first_sequence: 7", "records: 2 (sequence 7 ..< 9)", "events: 3", "replay_records: 1 (9 replay steps)", "status: ok"] {
            XCTAssertTrue(intact.output.contains(line), "missing \(line) in:\n\(intact.output)")
        }
        let tornPath = dir + "/torn.srl"
        try Array(segment.dropLast(3)).withUnsafeBytes { try AtomicFile.write($0, to: tornPath) }
        let torn = try inspect(tornPath)
        XCTAssertEqual(torn.status, 1, torn.output)
        XCTAssertTrue(torn.output.contains("records: 1") && torn.output.contains("status: damaged"), torn.output)

        var model = Model(settings: ModelSettings(factors: 2, learningRate: 0.1, regularization: 0, seed: 1))
        model.observe(user: .number(1), item: .number(2), rating: 3)
        model.observe(user: .number(1), item: .number(3), rating: 9)
        model.observe(user: .number(1), item: .number(4), rating: 9)
        var snapshot = SnapshotFormat.encode(model, createdAtMillis: 5, logPosition: 42)
        let snapshotPath = dir + "/snapshot-0000000000000005.srs"
        try snapshot.withUnsafeBytes { try AtomicFile.write($0, to: snapshotPath) }
        let good = try inspect(snapshotPath)
        XCTAssertEqual(good.status, 0, good.output)
        for line in ["log_position: 42", "model_events: 3", "rated_pairs: 3", "likes: 2", "neighbour_pairs: 0"] {
            XCTAssertTrue(good.output.contains(line), "missing \(line) in:\n\(good.output)")
        }
        snapshot[snapshot.count / 2] ^= 0x10
        try snapshot.withUnsafeBytes { try AtomicFile.write($0, to: snapshotPath) }
        let bad = try inspect(snapshotPath)
        XCTAssertEqual(bad.status, 1, bad.output)
        XCTAssertTrue(bad.output.contains("MISMATCH") && bad.output.contains("status: damaged"), bad.output)
    }
}
