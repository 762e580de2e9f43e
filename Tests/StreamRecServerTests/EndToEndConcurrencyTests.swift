// Queries from several clients at once, answered by the worker pool while the
// event loop keeps applying events.

import Foundation
import StreamRecCore
import StreamRecServer
import XCTest

final class EndToEndConcurrencyTests: XCTestCase {
    /// Four clients querying in parallel with a steady ingest all get well-formed answers, forwarded observes included, and every event is applied.
    func testParallelClientsDuringIngest() throws {
        let runner = try E2EDaemonRunner(dataDirectory: e2eTemporaryDirectory(self)) { $0.queryThreads = 2 }
        addTeardownBlock { runner.stop() }
        let pusher = try runner.pusher()
        var rng = SplitMix64(seed: 3)
        let events = (0..<6000).map { _ in
            RatingEvent(user: .number(rng.next() % 300), item: .number(rng.next() % 500), rating: Float(rng.next() % 10 + 1))
        }
        pusher.send(batchesOf: 50, events[..<1000])
        let failures = ManagedCounter(), answered = ManagedCounter()
        let clients = TestThreads(4) { worker in
            guard let client = try? runner.client(timeout: 10) else { return failures.increment() }
            for n in 0..<150 {
                let user = E2E.id(UInt64((n * 7 + worker) % 300))
                let request: JSONValue = switch n % 3 {
                case 0: E2E.op("predict", ("user", user), ("item", E2E.id(UInt64(n % 500))))
                case 1: E2E.op("top", ("user", user), ("n", .number("10")))
                default: E2E.op("observe", ("user", user), ("item", E2E.id(UInt64(n))), ("rating", .number("7")))
                }
                guard let reply = try? client.request(request), reply["ok"] == .bool(true) else {
                    failures.increment()
                    continue
                }
                answered.increment()
            }
        }
        pusher.send(batchesOf: 50, events[1000...])
        XCTAssertTrue(clients.finished(within: 60))
        XCTAssertEqual(failures.value, 0)
        XCTAssertEqual(answered.value, 600)
        let observes = 4 * 50
        let stats = try XCTUnwrap(E2E.waitForApplied(try runner.client(), events.count + observes))
        XCTAssertEqual(stats["events_applied"]?.double, Double(events.count + observes))
        XCTAssertEqual(stats["model_events"]?.double, Double(events.count + observes))
    }
}
