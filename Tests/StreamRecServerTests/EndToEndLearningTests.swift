// End-to-end tests of what the daemon learns: that it is the evaluator's
// learner, and that idle-time replay converges and then holds still.

import Foundation
import StreamRecCore
import StreamRecServer
import XCTest

final class EndToEndLearningTests: XCTestCase {
    private func startDaemon(_ dataDirectory: String,
                             configure: (inout DaemonConfig) -> Void = { _ in }) throws -> E2EDaemonRunner {
        let runner = try E2EDaemonRunner(dataDirectory: dataDirectory, configure: configure)
        addTeardownBlock { runner.stop() }
        return runner
    }

    /// `observe` over the wire returns, event for event, exactly the prediction the in-process evaluator makes
    /// before learning it, so RMSE and MAE from the wire's priors equal the evaluator's own totals.
    func testObservePriorsOverTheWireEqualTheEvaluators() throws {
        let runner = try startDaemon(e2eTemporaryDirectory(self))
        let client = try runner.client()
        var evaluator = Evaluator(model: Model(settings: DaemonConfig().model))
        var rng = SplitMix64(seed: 11)
        var squaredError = 0.0, absoluteError = 0.0
        for n in 0..<400 {
            let event = RatingEvent(user: .number(rng.next() % 40), item: .number(rng.next() % 60),
                                    rating: Float(rng.next() % 10 + 1))
            let reply = try XCTUnwrap(E2E.ask(client, EventEncoder.json(event).adding(op: "observe")))
            let expected = evaluator.model.predict(user: event.user, item: event.item).score
            evaluator.prequential(event)
            XCTAssertEqual(reply["prior"], JSONValue.number(expected), "event #\(n)")
            let prior = try XCTUnwrap(reply["prior"]?.double, "event #\(n)")
            // The evaluator adds up Double(Float prediction) - Double(rating); the reply's number is that Float.
            let error = Double(Float(prior)) - Double(event.rating)
            squaredError += error * error
            absoluteError += abs(error)
        }
        XCTAssertEqual(evaluator.totals.events, 400)
        XCTAssertEqual((squaredError / 400).squareRoot(), evaluator.totals.rmse, accuracy: 1e-12)
        XCTAssertEqual(absoluteError / 400, evaluator.totals.mae, accuracy: 1e-12)
        let stats = try XCTUnwrap(E2E.ask(client, E2E.op("stats")))
        XCTAssertEqual(stats["model_events"]?.double, 400)
    }

    /// With replay on, an idle daemon relearns exactly passes × events from its reservoir, then stops changing; a restart serves the same answers and replays nothing.
    func testIdleReplayConvergesThenHoldsStillAcrossRestart() throws {
        let dir = e2eTemporaryDirectory(self)
        let data = E2EDataset()
        let first = try startDaemon(dir) { config in
            config.replayRate = 1_000_000
            config.replayPasses = 3
        }
        let pusher = try first.pusher()
        pusher.send(batchesOf: 10, data.events[...])
        let client = try first.client()
        let idleBefore = try XCTUnwrap(E2E.waitForApplied(client, data.events.count))
        XCTAssertLessThanOrEqual(try XCTUnwrap(idleBefore["events_replayed"]?.double), Double(3 * data.events.count))
        E2E.waitForStats(client, "replay to finish") {
            $0["events_replayed"]?.double == Double(3 * data.events.count)
        }
        let queries = EndToEndDaemonTests.probeQueries()
        let settled = queries.compactMap { E2E.askBytes(client, $0) }
        usleep(50_000)
        XCTAssertEqual(queries.compactMap { E2E.askBytes(client, $0) }, settled, "answers drift after replay is spent")
        XCTAssertTrue(first.stop())

        let second = try startDaemon(dir) { config in config.replayRate = 1_000_000 }
        let secondClient = try second.client()
        XCTAssertEqual(queries.compactMap { E2E.askBytes(secondClient, $0) }, settled, "answers changed across the restart")
        let stats = try XCTUnwrap(E2E.ask(secondClient, E2E.op("stats")))
        XCTAssertEqual(stats["events_replayed"]?.double, 0, "a restored daemon owes no replay")
    }
}

private extension JSONValue {
    /// This event object as a query with the given op.
    func adding(op: String) -> JSONValue {
        guard case .object(let members) = self else { return self }
        return .object([("op", .string(op))] + members)
    }
}
