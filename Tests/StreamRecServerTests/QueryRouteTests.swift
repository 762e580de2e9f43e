// Which thread answers which query, without sockets: the routing rule, the
// ROUTER envelope split, and the engine applying the rule.

import StreamRecCore
@testable import StreamRecServer
import XCTest

final class QueryRouteTests: XCTestCase {
    /// Constant-cost ops and malformed ones are answered at the front, whatever the catalogue; observe and snapshot go to the loop.
    func testLightOpsStayAtTheFrontAndStateChangesGoToTheLoop() {
        for op in ["predict", "stats", "health", "no-such-op"] {
            XCTAssertEqual(QueryRoute.stop(op: op, items: 10_000_000, factors: 256), .front, op)
        }
        for op in ["observe", "snapshot"] {
            XCTAssertEqual(QueryRoute.stop(op: op, items: 10, factors: 4), .loop, op)
        }
    }

    /// Catalogue scans stay at the front up to their measured limits (for top, a higher one while the front is idle) and go to a worker beyond them.
    func testScansGoToAWorkerBeyondTheirLimits() {
        XCTAssertEqual(QueryRoute.stop(op: "top", items: 10_000, factors: 32), .front)
        XCTAssertEqual(QueryRoute.stop(op: "top", items: 10_241, factors: 32), .idleFront)
        XCTAssertEqual(QueryRoute.stop(op: "top", items: 10_000, factors: 64), .idleFront, "twice the factors, twice the scan")
        XCTAssertEqual(QueryRoute.stop(op: "top", items: 131_072, factors: 32), .idleFront)
        XCTAssertEqual(QueryRoute.stop(op: "top", items: 131_073, factors: 32), .worker)
        XCTAssertEqual(QueryRoute.stop(op: "top", items: 100_000, factors: 64), .worker)
        XCTAssertEqual(QueryRoute.stop(op: "similar", items: 3_072, factors: 32), .front)
        XCTAssertEqual(QueryRoute.stop(op: "similar", items: 10_000, factors: 32), .worker)
        XCTAssertEqual(QueryRoute.stop(op: "popular", items: 32_768, factors: 256), .front)
        XCTAssertEqual(QueryRoute.stop(op: "popular", items: 32_769, factors: 4), .worker)
    }

    /// Long requests go to a worker before the front parses them.
    func testLongRequestsGoToAWorkerUnparsed() {
        XCTAssertEqual(QueryRoute.stop(requestBytes: 60), .front)
        XCTAssertEqual(QueryRoute.stop(requestBytes: QueryRoute.frontRequestBytes), .front)
        XCTAssertEqual(QueryRoute.stop(requestBytes: QueryRoute.frontRequestBytes + 1), .worker)
    }

    /// A request travels front → worker → loop, and each stop answers what is allowed there or earlier.
    func testStopsAreOrderedAlongTheWay() {
        XCTAssertLessThan(QueryStop.front, .idleFront)
        XCTAssertLessThan(QueryStop.idleFront, .worker)
        XCTAssertLessThan(QueryStop.worker, .loop)
    }

    /// The front counts as idle for one client's requests, not for two clients' within the window, and again once the other has been quiet that long; a client after a quiet window is alone.
    func testSoloClientWatchSeesASecondClient() {
        var watch = SoloClientWatch()
        let a: [[UInt8]] = [[0, 1], []], b: [[UInt8]] = [[0, 2], []], c: [[UInt8]] = [[0, 3], []]
        let window = SoloClientWatch.window
        XCTAssertTrue(watch.note(a, now: 1), "the first client is alone")
        XCTAssertTrue(watch.note(a, now: 1 + window / 4))
        XCTAssertFalse(watch.note(b, now: 1 + window / 2), "a second client")
        XCTAssertFalse(watch.note(a, now: 1 + window * 3 / 4))
        XCTAssertFalse(watch.note(a, now: 1 + window), "a and b shared the window a quarter window ago")
        XCTAssertTrue(watch.note(a, now: 1 + window * 2), "b has been quiet for the window")
        XCTAssertTrue(watch.note(c, now: 1 + window * 4), "a new client after a quiet window is alone")
    }

    /// A REQ client's request splits into its envelope (up to the empty delimiter) and one body frame; other shapes are left to a worker.
    func testRouterRequestSplitsTheEnvelope() {
        let id: [UInt8] = [0, 1, 2, 3, 4], hop: [UInt8] = [9, 9], body = Array("{}".utf8)
        let request = RouterRequest([id, [], body])
        XCTAssertEqual(request?.envelope, [id, []])
        XCTAssertEqual(request?.body, body)
        XCTAssertEqual(RouterRequest([hop, id, [], body])?.envelope, [hop, id, []], "a client behind another ROUTER")
        XCTAssertNil(RouterRequest([id, body]), "no delimiter")
        XCTAssertNil(RouterRequest([[], body]), "no identity")
        XCTAssertNil(RouterRequest([id, [], body, body]), "a multipart body")
        XCTAssertEqual(RouterRequest.multipartEnvelope([hop, id, [], body, body]), [hop, id, []])
        XCTAssertNil(RouterRequest.multipartEnvelope([id, [], body]), "one body frame")
        XCTAssertNil(RouterRequest.multipartEnvelope([id, body, body]), "no delimiter")
    }

    /// The engine answers at the front only what the rule allows there, and the worker the rest of the read-only ops.
    func testEngineAnswersAtTheStopTheRuleGives() throws {
        var model = Model(settings: ModelSettings())
        for item in 0..<UInt64(10_241) { model.observe(RatingEvent(user: .number(item % 7), item: .number(item), rating: 5)) }
        var engine = Engine(model: model, limits: EventLimits(), maxMessageBytes: 1 << 20)
        func answer(_ text: String, at stop: QueryStop) -> String? {
            Array(text.utf8).withUnsafeBytes { engine.answer($0, at: stop) }.map { "\($0.op) \($0.reply["ok"] == .bool(true))" }
        }
        XCTAssertEqual(answer(#"{"op":"predict","user":1,"item":2}"#, at: .front), "predict true")
        XCTAssertEqual(answer("{oops", at: .front), "invalid false")
        XCTAssertNil(answer(#"{"op":"top","user":1}"#, at: .front), "10,241 items at k = 32 is a worker's scan")
        XCTAssertEqual(answer(#"{"op":"top","user":1}"#, at: .idleFront), "top true", "unless the front is idle")
        XCTAssertEqual(answer(#"{"op":"top","user":1}"#, at: .worker), "top true")
        let long = #"{"op":"predict","user":1,"item":2,"pad":""# + String(repeating: "x", count: 2000) + #""}"#
        XCTAssertNil(answer(long, at: .front))
        XCTAssertEqual(answer(long, at: .worker), "predict true")
        XCTAssertNil(answer(#"{"op":"observe","user":1,"item":2,"rating":3}"#, at: .worker))

        engine = Engine(model: Model(settings: ModelSettings()), limits: EventLimits(), maxMessageBytes: 1 << 20)
        XCTAssertEqual(answer(#"{"op":"top","user":1}"#, at: .front), "top true", "an empty catalogue is a small scan")
    }
}
