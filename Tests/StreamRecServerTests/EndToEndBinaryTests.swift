// End-to-end: the binary ingest format through a real in-process daemon.

import StreamRecCore
import StreamRecServer
import XCTest

final class EndToEndBinaryTests: XCTestCase {
    /// The same events pushed as JSON objects to one daemon and as binary frames to another leave identical models
    /// (final snapshots compared field by field, ranking and neighbour heads included).
    func testJSONAndBinaryIngestGiveIdenticalModels() throws {
        let data = E2EDataset(topRating: 10)
        var models: [Model] = []
        for binary in [false, true] {
            let directory = e2eTemporaryDirectory(self, binary ? "binary" : "json")
            let runner = try E2EDaemonRunner(dataDirectory: directory)
            addTeardownBlock { runner.stop() }
            let pusher = try runner.pusher()
            if binary {
                for start in stride(from: 0, to: data.events.count, by: 7) {
                    pusher.send(BinaryFrame.encode(Array(data.events[start ..< min(start + 7, data.events.count)])))
                }
            } else {
                pusher.send(objects: data.events[...])
            }
            let client = try runner.client()
            let stats = try XCTUnwrap(E2E.waitForApplied(client, data.events.count))
            XCTAssertEqual(stats["events_received"]?.double, Double(data.events.count))
            XCTAssertTrue(runner.stop())
            let snapshot = try XCTUnwrap(e2eSnapshotFiles(in: directory).last)
            models.append(try Model.load(from: snapshot))
        }
        XCTAssertEqual(models[0].eventsApplied, UInt64(data.events.count))
        XCTAssertGreaterThan(models[0].neighbourHead.liked.count, 10, "no likes: the heads that learn from positives were not compared")
        XCTAssertEqual(models[0], models[1])
    }

    /// An ingest message of two frames, one good and one bad, applies neither and is counted once as `multipart`; a one-frame message after it applies.
    func testMultipartMessageIsRefusedWhole() throws {
        let runner = try E2EDaemonRunner(dataDirectory: e2eTemporaryDirectory(self))
        addTeardownBlock { runner.stop() }
        let pusher = try runner.pusher()
        let good = Array(#"{"user":"mp-a","item":"mp-i","rating":4}"#.utf8)
        try pusher.socket.send(good, more: true)
        try pusher.socket.send(Array(#"{"user":"mp-b","item":"mp-j","rating":"x"}"#.utf8))
        pusher.send(Array(#"{"user":"solo","item":"mp-i","rating":4}"#.utf8))
        let client = try runner.client()
        let stats = try XCTUnwrap(E2E.waitForStats(client, "both messages counted") { ($0["events_received"]?.double ?? 0) >= 2 })
        XCTAssertEqual(E2E.rejected(stats, "multipart"), 1)
        XCTAssertEqual(E2E.rejected(stats, "bad_rating"), 0, "the bad frame was not decoded on its own")
        XCTAssertEqual(stats["events_applied"]?.double, 1, "only the one-frame message applied")
        XCTAssertEqual(stats["users"]?.double, 1)
    }

    /// A truncated binary frame sent over the socket is counted as `bad_frame` and applies nothing, while a good frame after it applies.
    func testTruncatedFrameIsCountedAndNothingApplies() throws {
        let runner = try E2EDaemonRunner(dataDirectory: e2eTemporaryDirectory(self))
        addTeardownBlock { runner.stop() }
        let data = E2EDataset()
        let frame = BinaryFrame.encode(data.events)
        let pusher = try runner.pusher()
        pusher.send(Array(frame.dropLast(3)))
        pusher.send(frame)
        let client = try runner.client()
        let stats = try XCTUnwrap(E2E.waitForStats(client, "both frames counted") {
            ($0["events_received"]?.double ?? 0) >= Double(data.events.count + 1)
        })
        XCTAssertEqual(E2E.rejected(stats, "bad_frame"), 1)
        XCTAssertEqual(stats["events_applied"]?.double, Double(data.events.count))
        XCTAssertEqual(stats["model_events"]?.double, Double(data.events.count))
    }
}
