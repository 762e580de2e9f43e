import XCTest
import StreamRecCore
@testable import StreamRecServer

/// The daemon's message handling without sockets: ingest, counters and every query op.
final class EngineTests: XCTestCase {
    private func makeEngine(maxMessageBytes: Int = 1024) -> Engine {
        Engine(model: Model(settings: ModelSettings(factors: 4, learningRate: 0.05, regularization: 0.02, seed: 1)),
               limits: EventLimits(maxIDBytes: 16, maxAbsRating: 10), maxMessageBytes: maxMessageBytes)
    }

    @discardableResult
    private func ingest(_ engine: inout Engine, _ text: String) -> Rejection? {
        Array(text.utf8).withUnsafeBytes { engine.ingest($0) }
    }

    private func query(_ engine: inout Engine, _ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSONValue {
        switch Array(text.utf8).withUnsafeBytes({ engine.query($0) }) {
        case .reply(let reply): return reply
        case .snapshot:
            XCTFail("\(text) asked for a snapshot", file: file, line: line)
            return .null
        }
    }

    /// Asserts an `ok:false` reply with exactly `ok` and a non-empty `error` containing `fragment`.
    private func assertFailure(_ reply: JSONValue, contains fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        guard case .object(let members) = reply else { return XCTFail("not an object: \(reply.text)", file: file, line: line) }
        XCTAssertEqual(members.map(\.key), ["ok", "error"], reply.text, file: file, line: line)
        XCTAssertEqual(reply["ok"], .bool(false), reply.text, file: file, line: line)
        guard case .string(let error)? = reply["error"] else { return XCTFail("no error text: \(reply.text)", file: file, line: line) }
        XCTAssertTrue(error.contains(fragment), "\(error.debugDescription) lacks \(fragment.debugDescription)", file: file, line: line)
    }

    private func trained() -> Engine {
        var engine = makeEngine()
        ingest(&engine, #"[{"user":1,"item":"a","rating":5},{"user":1,"item":"b","rating":3},{"user":2,"item":"a","rating":4},{"user":3,"item":"c","rating":1}]"#)
        return engine
    }

    /// After a mix of good, bad, malformed and oversized messages, received == applied + rejected and each reason is counted by events.
    func testIngestCountersAddUp() {
        var engine = makeEngine()
        XCTAssertNil(ingest(&engine, #"{"user":1,"item":2,"rating":3}"#))
        XCTAssertNil(ingest(&engine, #"[{"user":1,"item":3,"rating":3},{"user":2,"item":2,"rating":1},{"user":5,"item":2,"rating":2}]"#))
        XCTAssertEqual(ingest(&engine, #"[{"user":1,"item":3,"rating":3},{"user":2,"item":2,"rating":11}]"#)?.reason, .badRating)
        XCTAssertEqual(ingest(&engine, "{oops")?.reason, .notJSON)
        XCTAssertEqual(ingest(&engine, #"{"user":"","item":2,"rating":3}"#)?.reason, .badID)
        XCTAssertEqual(ingest(&engine, #"[{"user":1,"item":2}]"#)?.reason, .badEvent)
        XCTAssertEqual(ingest(&engine, String(repeating: " ", count: 1025))?.reason, .oversized)

        let c = engine.counters
        XCTAssertEqual(c.applied, 4)
        XCTAssertEqual(c.rejected, [.badRating: 2, .notJSON: 1, .badID: 1, .badEvent: 1, .oversized: 1])
        XCTAssertEqual(c.rejectedTotal, 6)
        XCTAssertEqual(c.received, c.applied + c.rejectedTotal)
        XCTAssertEqual(engine.model.eventsApplied, 4, "rejected batches applied nothing")
        XCTAssertEqual(engine.model.users.count, 3)
    }

    /// A message over max-message-bytes is rejected as oversized without being parsed; one of exactly the limit is applied.
    func testOversizedBoundary() {
        var engine = makeEngine(maxMessageBytes: 64)
        let event = #"{"user":1,"item":2,"rating":3}"#
        let exact = event + String(repeating: " ", count: 64 - event.utf8.count)
        XCTAssertNil(ingest(&engine, exact))
        let rejection = ingest(&engine, exact + " ")
        XCTAssertEqual(rejection?.reason, .oversized)
        XCTAssertEqual(rejection?.events, 1)
        XCTAssertTrue(rejection?.detail.contains("65 bytes") ?? false, rejection?.detail ?? "")
        XCTAssertEqual(engine.model.eventsApplied, 1)
        assertFailure(query(&engine, #"{"op":"stats"}"# + String(repeating: " ", count: 64)), contains: "exceeds")
    }

    /// predict answers from the model for known IDs and from the fallback for unknown ones; bad IDs fail.
    func testPredict() {
        var engine = trained()
        let known = query(&engine, #"{"op":"predict","user":1,"item":"a"}"#)
        XCTAssertEqual(known["ok"], .bool(true))
        XCTAssertEqual(known["source"], .string("model"))
        XCTAssertEqual(known["score"], .number(engine.model.predict(user: .number(1), item: .text("a")).score))
        XCTAssertEqual(query(&engine, #"{"op":"predict","user":"1","item":"zzz"}"#)["source"], .string("fallback"))
        assertFailure(query(&engine, #"{"op":"predict","item":"a"}"#), contains: "user")
        assertFailure(query(&engine, #"{"op":"predict","user":1,"item":""}"#), contains: "item")
        assertFailure(query(&engine, #"{"op":"predict","user":1,"item":true}"#), contains: "item")
    }

    /// top lists unseen items for a known user, all items with exclude_seen false, popular for a stranger; bad n fails.
    func testTop() {
        var engine = trained()
        let top = query(&engine, #"{"op":"top","user":1,"n":5}"#)
        XCTAssertEqual(top["ok"], .bool(true))
        XCTAssertEqual(top["source"], .string("model"))
        XCTAssertEqual(top["items"], .array([.object([("item", .string("c")), ("score", engine.model.top(user: .number(1), n: 5).items.first.map { .number($0.score) } ?? .null)])]))
        guard case .array(let all)? = query(&engine, #"{"op":"top","user":1,"exclude_seen":false}"#)["items"] else { return XCTFail() }
        XCTAssertEqual(all.count, 3)
        let stranger = query(&engine, #"{"op":"top","user":"nobody","n":1}"#)
        XCTAssertEqual(stranger["source"], .string("popular"))
        XCTAssertEqual(stranger["items"], .array([.object([("item", .string("a")), ("score", .number("2.0"))])]))
        for n in ["0", "1001", "2.5", "-1", "\"3\"", "null"] {
            assertFailure(query(&engine, #"{"op":"top","user":1,"n":\#(n)}"#), contains: "\"n\"")
        }
        assertFailure(query(&engine, #"{"op":"top","user":1,"exclude_seen":"yes"}"#), contains: "exclude_seen")
        assertFailure(query(&engine, #"{"op":"top"}"#), contains: "user")
    }

    /// The IDs of a top or similar reply's items, in order.
    private func items(_ reply: JSONValue, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        guard case .array(let list)? = reply["items"] else {
            XCTFail("no items: \(reply.text)", file: file, line: line)
            return []
        }
        return list.map { $0["item"]?.text ?? "?" }
    }

    /// An engine holding users 1–30 who rated items 100–139 (every rating a like for some user), so filters,
    /// anonymous users and similar items have a model to answer from.
    private func catalogue() -> Engine {
        var engine = makeEngine(maxMessageBytes: 1 << 16)
        var events: [String] = []
        for u in 1...30 {
            for j in 0..<12 { events.append(#"{"user":\#(u),"item":\#(100 + (u * 3 + j * 7) % 40),"rating":\#(1 + (u + j) % 10)}"#) }
        }
        XCTAssertNil(ingest(&engine, "[" + events.joined(separator: ",") + "]"))
        return engine
    }

    /// `top` over the wire honours `exclude` and `candidates` (unknown candidates ignored), folds in an anonymous
    /// user from `items` exactly as `Model.top` does and leaves the given items out, and `similar` answers what
    /// `Model.similar` does; each one's bad input gets an `ok:false` reply naming the field.
    func testFiltersAnonymousUsersAndSimilar() throws {
        var engine = catalogue()
        let full = items(query(&engine, #"{"op":"top","user":1,"n":20}"#))
        guard full.count == 20 else { return XCTFail("top-20 of 40 items: \(full)") }
        let excluded = items(query(&engine, #"{"op":"top","user":1,"n":20,"exclude":[\#(full[0]),\#(full[1])]}"#))
        XCTAssertEqual(excluded, Array(full.dropFirst(2)) + excluded.suffix(2), "exclude drops exactly the listed items")
        XCTAssertFalse(excluded.contains(full[0]) || excluded.contains(full[1]))
        let picked = items(query(&engine, #"{"op":"top","user":1,"n":10,"candidates":[\#(full[5]),\#(full[2]),999999,\#(full[9])]}"#))
        XCTAssertEqual(picked, [full[2], full[5], full[9]], "candidates keep the full list's order; unknown ones are ignored")

        let anonymous = query(&engine, #"{"op":"top","items":[100,{"item":107,"rating":9},114],"n":5}"#)
        XCTAssertEqual(anonymous["source"], .string("model"))
        let expected = engine.model.top(TopQuery(.anonymous([(.number(100), nil), (.number(107), 9), (.number(114), nil)]), n: 5))
        XCTAssertEqual(items(anonymous), expected.items.map { Engine.json($0.item).text })
        XCTAssertTrue(Set(items(anonymous)).isDisjoint(with: ["100", "107", "114"]), "the given items are left out")
        XCTAssertEqual(query(&engine, #"{"op":"top","items":[424242],"n":3}"#)["source"], .string("popular"))

        let similar = query(&engine, #"{"op":"similar","item":100,"n":4}"#)
        XCTAssertEqual(similar["ok"], .bool(true))
        let nearest = try XCTUnwrap(engine.model.similar(item: .number(100), n: 4))
        XCTAssertEqual(items(similar), nearest.map { Engine.json($0.item).text })
        XCTAssertFalse(items(similar).contains("100"), "an item is not its own neighbour")

        assertFailure(query(&engine, #"{"op":"similar","item":424242}"#), contains: "unknown item")
        assertFailure(query(&engine, #"{"op":"similar"}"#), contains: "item")
        assertFailure(query(&engine, #"{"op":"top","user":1,"exclude":7}"#), contains: "exclude")
        assertFailure(query(&engine, #"{"op":"top","user":1,"candidates":"all"}"#), contains: "candidates")
        assertFailure(query(&engine, #"{"op":"top","user":1,"items":[100]}"#), contains: "not both")
        assertFailure(query(&engine, #"{"op":"top","items":5}"#), contains: "\"items\" must be an array")
        assertFailure(query(&engine, #"{"op":"top"}"#), contains: "either")
        assertFailure(query(&engine, #"{"op":"top","user":1,"exclude":[3,null]}"#), contains: "\"exclude[1]\" must be")
        assertFailure(query(&engine, #"{"op":"top","items":[{"item":100}]}"#), contains: "rating")
    }

    /// popular lists items by distinct raters with integer IDs as numbers and text IDs as strings.
    func testPopular() {
        var engine = trained()
        ingest(&engine, #"{"user":9,"item":77,"rating":2}"#)
        let reply = query(&engine, #"{"op":"popular","n":2}"#)
        XCTAssertEqual(reply.text, #"{"ok":true,"items":[{"item":"a","count":2},{"item":"b","count":1}]}"#)
        let all = query(&engine, #"{"op":"popular"}"#)
        guard case .array(let items)? = all["items"] else { return XCTFail(all.text) }
        XCTAssertEqual(items.last, .object([("item", .number("77")), ("count", .number("1"))]))
        assertFailure(query(&engine, #"{"op":"popular","n":0}"#), contains: "\"n\"")
    }

    /// observe applies one event, counts it, and returns as prior exactly what predict said just before.
    func testObserveReturnsPriorPrediction() {
        var engine = trained()
        for (user, item, rating) in [("1", "\"a\"", "2"), ("2", "\"c\"", "5"), ("\"new\"", "\"a\"", "3"), ("1", "\"new\"", "4")] {
            let predicted = query(&engine, #"{"op":"predict","user":\#(user),"item":\#(item)}"#)["score"]
            let before = engine.model.eventsApplied
            let reply = query(&engine, #"{"op":"observe","user":\#(user),"item":\#(item),"rating":\#(rating)}"#)
            XCTAssertEqual(reply["ok"], .bool(true), reply.text)
            XCTAssertEqual(reply["prior"], predicted, "\(user) \(item)")
            XCTAssertEqual(engine.model.eventsApplied, before + 1)
        }
        XCTAssertEqual(engine.counters.applied, 8)
        assertFailure(query(&engine, #"{"op":"observe","user":1,"item":2,"rating":99}"#), contains: "rating")
        XCTAssertEqual(engine.counters.rejected[.badRating], 1, "a rejected observe is counted")
        XCTAssertEqual(engine.counters.received, engine.counters.applied + engine.counters.rejectedTotal)
        XCTAssertEqual(engine.model.eventsApplied, 8)
    }

    /// stats reports sizes and counters, with every reject reason listed even when zero.
    func testStats() {
        var engine = trained()
        ingest(&engine, "nope")
        let stats = query(&engine, #"{"op":"stats"}"#)
        XCTAssertEqual(stats["ok"], .bool(true))
        XCTAssertEqual(stats["users"], .number("3"))
        XCTAssertEqual(stats["items"], .number("3"))
        XCTAssertEqual(stats["rated_pairs"], .number("4"))
        XCTAssertEqual(stats["likes"], .number("0"), "ratings below the positive threshold are not likes")
        XCTAssertEqual(stats["events_received"], .number("5"))
        XCTAssertEqual(stats["events_applied"], .number("4"))
        XCTAssertEqual(stats["model_events"], .number("4"))
        XCTAssertEqual(stats["events_rejected"], .object([("not_json", .number("1")), ("bad_event", .number("0")), ("bad_id", .number("0")),
                                                          ("bad_rating", .number("0")), ("oversized", .number("0")), ("bad_frame", .number("0")),
                                                          ("multipart", .number("0"))]))
        XCTAssertEqual(stats["snapshot"], .null)
        XCTAssertNil(stats["snapshot_error"])
        XCTAssertNotNil(stats["uptime_s"]?.double)
    }

    /// Requests that are not JSON objects with a known string op get ok:false and an error saying what was wrong.
    func testBadRequests() {
        var engine = trained()
        assertFailure(query(&engine, #"{"op":"explode"}"#), contains: "unknown op \"explode\"")
        assertFailure(query(&engine, #"{"op":"explode"}"#), contains: "predict")
        assertFailure(query(&engine, #"[{"op":"stats"}]"#), contains: "JSON object")
        assertFailure(query(&engine, #""stats""#), contains: "JSON object")
        assertFailure(query(&engine, #"{}"#), contains: "missing \"op\"")
        assertFailure(query(&engine, #"{"op":7}"#), contains: "\"op\" must be a string, one of")
        assertFailure(query(&engine, "{\"op\":"), contains: "invalid JSON")
        assertFailure(query(&engine, ""), contains: "invalid JSON")
        XCTAssertEqual(engine.model.eventsApplied, 4, "no failed query changed the model")
    }

    /// health answers ready; snapshot asks the loop to write, and its reply reflects success or the recorded error.
    func testHealthAndSnapshotOps() {
        var engine = trained()
        XCTAssertEqual(query(&engine, #"{"op":"health"}"#).text, #"{"ok":true,"status":"ready"}"#)
        guard case .snapshot = Array(#"{"op":"snapshot"}"#.utf8).withUnsafeBytes({ engine.query($0) }) else {
            return XCTFail("snapshot op did not ask for a snapshot")
        }
        engine.lastSnapshotError = "disk full"
        assertFailure(engine.snapshotReply(succeeded: false), contains: "disk full")
        engine.lastSnapshot = SnapshotInfo(path: "/d/snapshot-1.srs", bytes: 123, createdAtMillis: 1, milliseconds: 2)
        let ok = engine.snapshotReply(succeeded: true)
        XCTAssertEqual(ok["ok"], .bool(true))
        XCTAssertEqual(ok["path"], .string("/d/snapshot-1.srs"))
        XCTAssertEqual(ok["bytes"], .number("123"))
        let stats = query(&engine, #"{"op":"stats"}"#)
        XCTAssertEqual(stats["snapshot"]?["path"], .string("/d/snapshot-1.srs"))
        XCTAssertEqual(stats["snapshot_error"], .string("disk full"))
    }
}
