// The daemon's front thread and worker pool together: light queries answered
// in place, observe and snapshot still through a worker to the event loop.

import Foundation
import StreamRecCore
import StreamRecServer
import XCTest
import ZeroMQ

final class EndToEndFrontTests: XCTestCase {
    /// Many clients asking predict and top at once get exactly the replies one client gets alone.
    func testConcurrentClientsGetTheSameRepliesAsOneClientAlone() throws {
        let runner = try E2EDaemonRunner(dataDirectory: e2eTemporaryDirectory(self)) { $0.queryThreads = 1 }
        addTeardownBlock { runner.stop() }
        let data = E2EDataset()
        // Kept until the events are applied: the pusher's linger is 0, so a
        // pusher dropped at once can discard what it queued before connecting.
        let pusher = try runner.pusher()
        pusher.send(batchesOf: 25, data.events[...])
        let client = try runner.client()
        withExtendedLifetime(pusher) { _ = E2E.waitForApplied(client, data.events.count) }

        let requests: [JSONValue] = data.events.prefix(40).enumerated().map { n, event in
            n % 4 == 0 ? E2E.op("top", ("user", e2eJSON(event.user)), ("n", .number("3")))
                : E2E.op("predict", ("user", e2eJSON(event.user)), ("item", e2eJSON(event.item)))
        }
        let expected = try requests.map { try client.requestBytes($0.bytes) }
        let mismatches = ManagedCounter(), matches = ManagedCounter()
        let clients = TestThreads(8) { c in
            guard let own = try? runner.client(timeout: 10) else { return mismatches.increment() }
            for round in 0..<5 {
                for n in requests.indices {
                    let i = (n + c * 5 + round) % requests.count
                    (try? own.requestBytes(requests[i].bytes)) == expected[i] ? matches.increment() : mismatches.increment()
                }
            }
        }
        XCTAssertTrue(clients.finished(within: 60))
        XCTAssertEqual(mismatches.value, 0)
        XCTAssertEqual(matches.value, 8 * 5 * requests.count)
    }

    /// A request sent as two frames gets ok:false naming the frame count, and the same socket is served normally afterwards.
    func testMultipartRequestIsRefusedWhole() throws {
        let runner = try E2EDaemonRunner(dataDirectory: e2eTemporaryDirectory(self)) { $0.queryThreads = 1 }
        addTeardownBlock { runner.stop() }
        let socket = try Socket(Context(), .req)
        try socket.setOption(SocketOption.receiveTimeout, Int32(5000))
        try socket.setOption(SocketOption.linger, Int32(0))
        try socket.connect(runner.repEndpoint)
        try socket.send(E2E.op("health").bytes, more: true)
        try socket.send(E2E.op("stats").bytes)
        let reply = try String(decoding: XCTUnwrap(socket.receive(), "a reply in time"), as: UTF8.self)
        XCTAssertTrue(reply.hasPrefix(#"{"ok":false"#), reply)
        XCTAssertTrue(reply.contains("this one had 2 frames"), reply)
        try socket.send(E2E.op("health").bytes)
        let health = try String(decoding: XCTUnwrap(socket.receive(), "a reply in time"), as: UTF8.self)
        XCTAssertTrue(health.hasPrefix(#"{"ok":true"#), health)
    }

    /// Observe and snapshot, forwarded through the pool, still change the model and write the file, with predicts answered in between.
    func testObserveAndSnapshotStillReachTheLoop() throws {
        let dir = e2eTemporaryDirectory(self)
        let runner = try E2EDaemonRunner(dataDirectory: dir) { $0.queryThreads = 1 }
        addTeardownBlock { runner.stop() }
        let client = try runner.client()
        let predict = E2E.op("predict", ("user", E2E.id(1)), ("item", E2E.id(2)))
        XCTAssertEqual(E2E.ask(client, predict)?["source"], .string("fallback"))
        for (user, item) in [(1, 2), (1, 3), (2, 2)] {
            let observed = E2E.ask(client, E2E.op("observe", ("user", E2E.id(UInt64(user))), ("item", E2E.id(UInt64(item))),
                                                 ("rating", .number("4"))))
            XCTAssertEqual(observed?["ok"], .bool(true), observed?.text ?? "")
        }
        XCTAssertEqual(E2E.ask(client, predict)?["source"], .string("model"))
        let snapshot = try XCTUnwrap(E2E.ask(client, E2E.op("snapshot")))
        XCTAssertEqual(snapshot["ok"], .bool(true), snapshot.text)
        XCTAssertEqual(try Model.load(from: XCTUnwrap(e2eSnapshotFiles(in: dir).last)).eventsApplied, 3)
        XCTAssertEqual(E2E.ask(client, E2E.op("stats"))?["events_applied"]?.double, 3)
    }
}
