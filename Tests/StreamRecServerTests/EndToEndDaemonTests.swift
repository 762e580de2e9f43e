// End-to-end tests of an in-process `Daemon`: real ZeroMQ PUSH/REQ sockets on
// loopback, a real temp data directory, the daemon's own event loop on a thread.

import Foundation
import StreamRecCore
import StreamRecServer
import XCTest
import ZeroMQ

final class EndToEndDaemonTests: XCTestCase {
    private func startDaemon(_ dataDirectory: String,
                             configure: (inout DaemonConfig) -> Void = { _ in }) throws -> E2EDaemonRunner {
        let runner = try E2EDaemonRunner(dataDirectory: dataDirectory, configure: configure)
        // Teardown blocks run last-in first-out, so this stop (and its final
        // snapshot) happens before the temp directory made earlier is removed.
        addTeardownBlock { runner.stop() }
        return runner
    }

    /// Events PUSHed as JSON objects and arrays all apply, then predict/top/popular/observe answer ok with the right sources.
    func testPushedEventsAreAppliedAndQueriesAnswerSanely() throws {
        let runner = try startDaemon(e2eTemporaryDirectory(self))
        let data = E2EDataset()
        let pusher = try runner.pusher()
        let half = data.events.count / 2
        pusher.send(objects: data.events[..<half])
        pusher.send(batchesOf: 10, data.events[half...])
        let client = try runner.client()

        let stats = try XCTUnwrap(E2E.waitForApplied(client, data.events.count))
        XCTAssertEqual(stats["ok"], .bool(true))
        XCTAssertEqual(stats["events_applied"]?.double, Double(data.events.count))
        XCTAssertEqual(stats["events_received"]?.double, Double(data.events.count))
        XCTAssertEqual(stats["model_events"]?.double, Double(data.events.count))
        XCTAssertEqual(stats["users"]?.double, Double(data.users.count))
        XCTAssertEqual(stats["items"]?.double, Double(data.items.count))
        for reason in RejectReason.allCases {
            XCTAssertEqual(E2E.rejected(stats, reason.rawValue), 0, "rejected as \(reason.rawValue)")
        }
        XCTAssertEqual(stats["snapshot"], .null, "no snapshot was written or restored yet")

        // predict: a known pair comes from the model, clamped to the ratings seen (1...5).
        let known = try XCTUnwrap(E2E.ask(client, E2E.op("predict", ("user", E2E.id(3)), ("item", E2E.id(109)))))
        XCTAssertEqual(known["ok"], .bool(true))
        XCTAssertEqual(known["source"], .string("model"))
        let score = try XCTUnwrap(known["score"]?.double)
        XCTAssertTrue((1...5).contains(score), "score \(score) outside the ratings seen")
        // The string "3" and the number 3 are the same ID.
        let asText = E2E.askBytes(client, E2E.op("predict", ("user", .string("3")), ("item", .string("109"))))
        XCTAssertEqual(asText, known.bytes)
        // An unknown user or item falls back.
        let unknown = try XCTUnwrap(E2E.ask(client, E2E.op("predict", ("user", .string("nobody")), ("item", E2E.id(100)))))
        XCTAssertEqual(unknown["ok"], .bool(true))
        XCTAssertEqual(unknown["source"], .string("fallback"))
        XCTAssertNotNil(unknown["score"]?.double)
        let textPair = try XCTUnwrap(E2E.ask(client, E2E.op("predict", ("user", .string("alice")), ("item", .string("widget-\u{3b1}")))))
        XCTAssertEqual(textPair["source"], .string("model"))

        // top: excludes what the user rated, best first, every other item listed.
        let user1 = ExternalID.number(1)
        let seen = data.seen(by: user1)
        let top = try XCTUnwrap(E2E.ask(client, E2E.op("top", ("user", E2E.id(1)), ("n", .number("1000")))))
        XCTAssertEqual(top["ok"], .bool(true))
        XCTAssertEqual(top["source"], .string("model"))
        guard case .array(let entries)? = top["items"] else { return XCTFail("top items: \(top.text)") }
        XCTAssertEqual(entries.count, data.items.count - seen.count)
        let listed = entries.compactMap { $0["item"] }
        for item in seen { XCTAssertFalse(listed.contains(e2eJSON(item)), "top lists \(item), which user 1 rated") }
        XCTAssertEqual(Set(listed.map(\.text)).count, listed.count, "top lists an item twice")
        let scores = entries.compactMap { $0["score"]?.double }
        XCTAssertEqual(scores.count, entries.count)
        XCTAssertEqual(scores, scores.sorted(by: >), "top is not best first")
        let top3 = try XCTUnwrap(E2E.ask(client, E2E.op("top", ("user", E2E.id(1)), ("n", .number("3")))))
        guard case .array(let first3)? = top3["items"] else { return XCTFail("top n=3: \(top3.text)") }
        XCTAssertEqual(first3, Array(entries.prefix(3)))
        // exclude_seen false brings the rated items back.
        let all = try XCTUnwrap(E2E.ask(client, E2E.op("top", ("user", E2E.id(1)), ("n", .number("1000")),
                                                       ("exclude_seen", .bool(false)))))
        guard case .array(let allEntries)? = all["items"] else { return XCTFail("top all: \(all.text)") }
        XCTAssertEqual(allEntries.count, data.items.count)

        // popular: distinct raters per item, most first, ties to the first seen.
        let expected = data.popular().prefix(5)
        let popular = try XCTUnwrap(E2E.ask(client, E2E.op("popular", ("n", .number("5")))))
        XCTAssertEqual(popular["ok"], .bool(true))
        guard case .array(let popularItems)? = popular["items"] else { return XCTFail("popular: \(popular.text)") }
        XCTAssertEqual(popularItems.compactMap { $0["item"] }, expected.map { e2eJSON($0.item) })
        XCTAssertEqual(popularItems.compactMap { $0["count"]?.double }, expected.map { Double($0.count) })

        // An unknown user's top is the popular list.
        let stranger = try XCTUnwrap(E2E.ask(client, E2E.op("top", ("user", .string("stranger")), ("n", .number("5")))))
        XCTAssertEqual(stranger["ok"], .bool(true))
        XCTAssertEqual(stranger["source"], .string("popular"))
        guard case .array(let strangerItems)? = stranger["items"] else { return XCTFail("stranger: \(stranger.text)") }
        XCTAssertEqual(strangerItems.compactMap { $0["item"] }, expected.map { e2eJSON($0.item) })

        // observe: applied at once; its prior is what predict said just before.
        let before = try XCTUnwrap(E2E.ask(client, E2E.op("predict", ("user", E2E.id(2)), ("item", E2E.id(129)))))
        let observed = try XCTUnwrap(E2E.ask(client, E2E.op("observe", ("user", E2E.id(2)), ("item", E2E.id(129)),
                                                            ("rating", .number("4.5")))))
        XCTAssertEqual(observed["ok"], .bool(true))
        XCTAssertEqual(observed["prior"], before["score"])
        let newcomer = try XCTUnwrap(E2E.ask(client, E2E.op("observe", ("user", .string("newbie")), ("item", E2E.id(101)),
                                                            ("rating", .number("3")))))
        XCTAssertEqual(newcomer["ok"], .bool(true))
        let after = try XCTUnwrap(E2E.ask(client, E2E.op("stats")))
        XCTAssertEqual(after["events_applied"]?.double, Double(data.events.count + 2))
        XCTAssertEqual(after["users"]?.double, Double(data.users.count + 1))
        let learned = try XCTUnwrap(E2E.ask(client, E2E.op("predict", ("user", .string("newbie")), ("item", E2E.id(101)))))
        XCTAssertEqual(learned["source"], .string("model"))
        let newbieTop = try XCTUnwrap(E2E.ask(client, E2E.op("top", ("user", .string("newbie")), ("n", .number("1000")))))
        XCTAssertEqual(newbieTop["source"], .string("model"))
        guard case .array(let newbieItems)? = newbieTop["items"] else { return XCTFail("newbie top: \(newbieTop.text)") }
        XCTAssertFalse(newbieItems.contains { $0["item"] == E2E.id(101) }, "top lists the item newbie just rated")

        let health = try XCTUnwrap(E2E.ask(client, E2E.op("health")))
        XCTAssertEqual(health["ok"], .bool(true))
    }

    /// The `snapshot` op replies ok with the path and size of a loadable file that exists, and stats reports it.
    func testSnapshotOpWritesAFileThatExists() throws {
        let dir = e2eTemporaryDirectory(self)
        let runner = try startDaemon(dir)
        let data = E2EDataset()
        let pusher = try runner.pusher()
        pusher.send(batchesOf: 25, data.events[...])
        let client = try runner.client()
        E2E.waitForApplied(client, data.events.count)

        let reply = try XCTUnwrap(E2E.ask(client, E2E.op("snapshot")))
        XCTAssertEqual(reply["ok"], .bool(true), reply.text)
        guard case .string(let path)? = reply["path"] else { return XCTFail("no path in \(reply.text)") }
        XCTAssertTrue(FileManager.default.fileExists(atPath: path), "\(path) does not exist")
        XCTAssertTrue(path.hasPrefix(dir + "/"), "\(path) is not in the data directory \(dir)")
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)
        XCTAssertEqual(reply["bytes"]?.double, size.doubleValue)
        XCTAssertEqual(e2eSnapshotFiles(in: dir), [path])
        // The file holds the model as it was: it loads with every event in it.
        let saved = try Model.load(from: path)
        XCTAssertEqual(saved.eventsApplied, UInt64(data.events.count))

        let stats = try XCTUnwrap(E2E.ask(client, E2E.op("stats")))
        XCTAssertEqual(stats["snapshot"]?["path"], .string(path))
        XCTAssertNil(stats["snapshot_error"])

        // A second one gets a newer name; both are kept (snapshotsKept = 2).
        let second = try XCTUnwrap(E2E.ask(client, E2E.op("snapshot")))
        XCTAssertEqual(second["ok"], .bool(true), second.text)
        guard case .string(let path2)? = second["path"] else { return XCTFail("no path in \(second.text)") }
        XCTAssertGreaterThan(path2, path)
        XCTAssertEqual(e2eSnapshotFiles(in: dir), [path, path2])
    }

    /// A snapshot that cannot be written replies ok:false and shows in stats.snapshot_error; the next good one clears it.
    func testFailedSnapshotRepliesErrorAndDaemonRecovers() throws {
        let dir = e2eTemporaryDirectory(self)
        let runner = try startDaemon(dir)
        let pusher = try runner.pusher()
        pusher.send(#"[{"user":1,"item":2,"rating":3},{"user":2,"item":2,"rating":5}]"#)
        let client = try runner.client()
        E2E.waitForApplied(client, 2)

        // Take the data directory away and leave a plain file in its place.
        let aside = dir + ".aside"
        try FileManager.default.moveItem(atPath: dir, toPath: aside)
        XCTAssertTrue(FileManager.default.createFile(atPath: dir, contents: Data("not a directory".utf8)))
        let failed = try XCTUnwrap(E2E.ask(client, E2E.op("snapshot")))
        XCTAssertEqual(failed["ok"], .bool(false), failed.text)
        guard case .string(let error)? = failed["error"] else { return XCTFail("no error in \(failed.text)") }
        XCTAssertTrue(error.contains("snapshot failed"), error)
        let stats = try XCTUnwrap(E2E.ask(client, E2E.op("stats")))
        XCTAssertEqual(stats["snapshot"], .null, stats.text)
        guard case .string? = stats["snapshot_error"] else { return XCTFail("no snapshot_error in \(stats.text)") }
        let predict = try XCTUnwrap(E2E.ask(client, E2E.op("predict", ("user", E2E.id(1)), ("item", E2E.id(2)))))
        XCTAssertEqual(predict["ok"], .bool(true), "the daemon stopped answering after a failed snapshot")

        // Put the directory back: the next snapshot works and clears the error.
        try FileManager.default.removeItem(atPath: dir)
        try FileManager.default.moveItem(atPath: aside, toPath: dir)
        let good = try XCTUnwrap(E2E.ask(client, E2E.op("snapshot")))
        XCTAssertEqual(good["ok"], .bool(true), good.text)
        guard case .string(let path)? = good["path"] else { return XCTFail("no path in \(good.text)") }
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        let after = try XCTUnwrap(E2E.ask(client, E2E.op("stats")))
        XCTAssertNil(after["snapshot_error"], after.text)
        XCTAssertEqual(after["snapshot"]?["path"], .string(path))
    }

    /// Malformed ingest messages are counted by reason in stats.events_rejected, good ones still apply, and the daemon keeps answering.
    func testMalformedIngestIsCountedByReasonAndDaemonKeepsServing() throws {
        let maxBytes = 4096
        let runner = try startDaemon(e2eTemporaryDirectory(self)) { $0.maxMessageBytes = maxBytes }
        let pusher = try runner.pusher()
        let client = try runner.client()
        let good = #"{"user":1,"item":2,"rating":3}"#

        pusher.send(good)
        // not_json
        pusher.send("this is not json")
        pusher.send(#"{"user":1,"item":2,"rating":3"#)                  // truncated
        pusher.send([0xFF, 0xFE, 0x00, 0x01])                           // binary
        pusher.send([UInt8](#"{"user":""#.utf8) + [0xC3, 0x28] + [UInt8](#"","item":2,"rating":3}"#.utf8))  // bad UTF-8
        // bad_event
        pusher.send("42")                                               // not an object or array
        pusher.send(#"{"item":2,"rating":3}"#)                          // missing user
        pusher.send(#"{"user":1,"item":2}"#)                            // missing rating
        pusher.send(#"{"user":1,"item":2,"rating":3,"ts":"yesterday"}"#)
        // bad_id
        pusher.send(#"{"user":"","item":2,"rating":3}"#)                // empty ID
        pusher.send(#"{"user":1,"item":""#+String(repeating: "x", count: 257)+#"","rating":3}"#)  // over-long ID
        pusher.send(#"{"user":true,"item":2,"rating":3}"#)              // wrong type
        pusher.send(#"{"user":1,"item":[2],"rating":3}"#)               // wrong type
        // At the limit exactly: accepted.
        pusher.send(#"{"user":1,"item":""#+String(repeating: "y", count: 256)+#"","rating":3}"#)
        // bad_rating
        pusher.send(#"{"user":1,"item":2,"rating":1e999}"#)             // infinite
        pusher.send(#"{"user":1,"item":2,"rating":"5"}"#)               // wrong type
        pusher.send(#"{"user":1,"item":2,"rating":1e7}"#)               // beyond ±maxAbsRating
        // A batch with one bad event is dropped whole and counts all its events.
        pusher.send(#"[{"user":5,"item":6,"rating":1},{"user":5,"item":7,"rating":1e999},{"user":5,"item":8,"rating":2}]"#)
        // oversized: valid JSON, but longer than maxMessageBytes.
        let bigBatch = EventEncoder.jsonBatch((0..<300).map {
            RatingEvent(user: .number(9), item: .number(UInt64(1000 + $0)), rating: 1)
        })
        XCTAssertGreaterThan(bigBatch.count, maxBytes)
        XCTAssertLessThan(bigBatch.count, maxBytes * 4, "must stay under the hard cap to be counted")
        pusher.send(bigBatch)
        pusher.send(#"[{"user":1,"item":3,"rating":4},{"user":2,"item":2,"rating":5}]"#)

        // Beyond the 4x hard cap libzmq drops the sender's connection unseen;
        // it goes on its own socket so the counted stream is undisturbed.
        let hostile = try E2EPusher(runner.pullEndpoint)
        hostile.send([UInt8](repeating: UInt8(ascii: "["), count: maxBytes * 4 + 100))

        let expected: [String: Double] = ["not_json": 4, "bad_event": 4, "bad_id": 4, "bad_rating": 3 + 3, "oversized": 1]
        let applied = 4.0
        let total = expected.values.reduce(applied, +)
        let stats = try XCTUnwrap(E2E.waitForStats(client, "all \(total) events received") {
            ($0["events_received"]?.double ?? 0) >= total
        })
        for (reason, count) in expected {
            XCTAssertEqual(E2E.rejected(stats, reason), count, "events_rejected.\(reason) in \(stats.text)")
        }
        XCTAssertEqual(stats["events_applied"]?.double, applied)
        XCTAssertEqual(stats["events_received"]?.double, total)
        // Only the good events reached the model: users 1 and 2; items 2, 3 and y×256.
        XCTAssertEqual(stats["users"]?.double, 2)
        XCTAssertEqual(stats["items"]?.double, 3)
        XCTAssertEqual(stats["model_events"]?.double, applied)

        // Still serving, on both sockets.
        let health = try XCTUnwrap(E2E.ask(client, E2E.op("health")))
        XCTAssertEqual(health["ok"], .bool(true))
        let predict = try XCTUnwrap(E2E.ask(client, E2E.op("predict", ("user", E2E.id(1)), ("item", E2E.id(3)))))
        XCTAssertEqual(predict["source"], .string("model"))
        pusher.send(#"{"user":3,"item":2,"rating":1}"#)
        let later = try XCTUnwrap(E2E.waitForApplied(client, Int(applied) + 1))
        XCTAssertEqual(later["events_received"]?.double, total + 1, "the hostile message must not be counted")
        XCTAssertTrue(runner.logs.lines.contains { $0.contains("bad_rating") }, "no warning logged for a rejection")
    }

    /// Every malformed request gets {"ok":false,"error":...} and the same REQ socket keeps working after each one.
    func testMalformedRequestsGetErrorRepliesAndSocketKeepsWorking() throws {
        let maxBytes = 4096
        let runner = try startDaemon(e2eTemporaryDirectory(self)) { $0.maxMessageBytes = maxBytes }
        let pusher = try runner.pusher()
        pusher.send(#"[{"user":1,"item":2,"rating":3},{"user":2,"item":3,"rating":4}]"#)
        let client = try runner.client()
        E2E.waitForApplied(client, 2)

        let bad: [(String, [UInt8], String?)] = [
            ("not JSON", Array("hello there".utf8), nil),
            ("empty message", [], nil),
            ("binary garbage", [0x00, 0xFF, 0x13, 0x37, 0x80, 0x7F, 0xC0, 0x01], nil),
            ("invalid UTF-8 in a string", [UInt8](#"{"op":""#.utf8) + [0xFF, 0xFE] + [UInt8](#""}"#.utf8), nil),
            ("array, not object", Array("[1,2,3]".utf8), nil),
            ("missing op", Array(#"{"user":1}"#.utf8), "op"),
            ("op not a string", Array(#"{"op":5}"#.utf8), "op"),
            ("unknown op", Array(#"{"op":"frobnicate"}"#.utf8), "frobnicate"),
            ("predict without item", Array(#"{"op":"predict","user":1}"#.utf8), "item"),
            ("predict without user", Array(#"{"op":"predict","item":1}"#.utf8), "user"),
            ("top without user", Array(#"{"op":"top"}"#.utf8), "user"),
            ("top with n = 0", Array(#"{"op":"top","user":1,"n":0}"#.utf8), "n"),
            ("top with n as text", Array(#"{"op":"top","user":1,"n":"5"}"#.utf8), "n"),
            ("top with fractional n", Array(#"{"op":"top","user":1,"n":2.5}"#.utf8), "n"),
            ("popular with n too big", Array(#"{"op":"popular","n":1001}"#.utf8), "n"),
            ("top with exclude_seen as text", Array(#"{"op":"top","user":1,"exclude_seen":"yes"}"#.utf8), "exclude_seen"),
            ("predict with empty user", Array(#"{"op":"predict","user":"","item":2}"#.utf8), "user"),
            ("observe with infinite rating", Array(#"{"op":"observe","user":1,"item":2,"rating":1e999}"#.utf8), "rating"),
            ("observe without rating", Array(#"{"op":"observe","user":1,"item":2}"#.utf8), "rating"),
            ("nested too deep", Array((String(repeating: "[", count: 100) + String(repeating: "]", count: 100)).utf8), nil),
            ("oversized request", Array(#"{"op":"stats","pad":""#.utf8) + [UInt8](repeating: 0x61, count: maxBytes) + Array(#""}"#.utf8), nil),
        ]
        for (what, request, mention) in bad {
            let raw: [UInt8]
            do {
                raw = try client.requestBytes(request)
            } catch {
                return XCTFail("\(what): no reply (\(error)); the REP socket stopped answering")
            }
            guard let reply = try? E2E.parse(raw) else {
                XCTFail("\(what): the reply is not JSON: \(String(decoding: raw, as: UTF8.self))")
                continue
            }
            XCTAssertEqual(reply["ok"], .bool(false), "\(what): \(reply.text)")
            guard case .string(let error)? = reply["error"], !error.isEmpty else {
                XCTFail("\(what): no error text in \(reply.text)")
                continue
            }
            if let mention {
                XCTAssertTrue(error.contains(mention), "\(what): error \"\(error)\" does not mention \(mention)")
            }
            // The socket is still in step: a good request right after works.
            let health = try XCTUnwrap(E2E.ask(client, E2E.op("health")), what)
            XCTAssertEqual(health["ok"], .bool(true), what)
        }

        // Nothing malformed reached the model; the bad observes were counted as rejected.
        let stats = try XCTUnwrap(E2E.ask(client, E2E.op("stats")))
        XCTAssertEqual(stats["events_applied"]?.double, 2)
        XCTAssertEqual(stats["model_events"]?.double, 2)
        XCTAssertEqual(E2E.rejected(stats, "bad_rating"), 1)
        XCTAssertEqual(E2E.rejected(stats, "bad_event"), 1)
        XCTAssertEqual(stats["users"]?.double, 2)
        let predict = try XCTUnwrap(E2E.ask(client, E2E.op("predict", ("user", E2E.id(1)), ("item", E2E.id(2)))))
        XCTAssertEqual(predict["ok"], .bool(true))
        XCTAssertEqual(predict["source"], .string("model"))
    }

    /// requestStop writes a final snapshot, and a new Daemon on the same data dir restores it with byte-identical answers.
    func testRestartOnSameDataDirectoryGivesIdenticalAnswers() throws {
        let dir = e2eTemporaryDirectory(self)
        let data = E2EDataset()
        let first = try startDaemon(dir)
        let pusher = try first.pusher()
        pusher.send(batchesOf: 7, data.events[...])
        let firstClient = try first.client()
        E2E.waitForApplied(firstClient, data.events.count)

        let queries = Self.probeQueries()
        let before = queries.compactMap { E2E.askBytes(firstClient, $0) }
        XCTAssertEqual(before.count, queries.count)
        for (query, reply) in zip(queries, before) {
            XCTAssertEqual(try E2E.parse(reply)["ok"], .bool(true), "\(query.text) -> \(String(decoding: reply, as: UTF8.self))")
        }
        XCTAssertTrue(first.stop(), "the first daemon did not stop cleanly")
        let snapshots = e2eSnapshotFiles(in: dir)
        XCTAssertEqual(snapshots.count, 1, "the stop should write exactly one (final) snapshot: \(snapshots)")
        XCTAssertTrue(first.logs.lines.contains { $0.contains("final snapshot written") }, "\(first.logs.lines)")

        // A crash mid-write leaves temp files; they must be cleaned up, never restored.
        let leftover = dir + "/snapshot-9999999999999999.srs.tmp-4242"
        XCTAssertTrue(FileManager.default.createFile(atPath: leftover, contents: Data("half a snapshot".utf8)))

        let second = try startDaemon(dir)
        XCTAssertNotEqual(second.repEndpoint, "tcp://127.0.0.1:*")
        XCTAssertFalse(FileManager.default.fileExists(atPath: leftover), "a crash's temp file was left behind")
        let secondClient = try second.client()
        let stats = try XCTUnwrap(E2E.ask(secondClient, E2E.op("stats")))
        XCTAssertEqual(stats["model_events"]?.double, Double(data.events.count))
        XCTAssertEqual(stats["events_applied"]?.double, 0, "counters are per run")
        XCTAssertEqual(stats["users"]?.double, Double(data.users.count))
        XCTAssertEqual(stats["items"]?.double, Double(data.items.count))
        XCTAssertEqual(stats["snapshot"]?["path"], snapshots.first.map { JSONValue.string($0) })
        let after = queries.compactMap { E2E.askBytes(secondClient, $0) }
        XCTAssertEqual(after.count, queries.count)
        for (n, query) in queries.enumerated() where n < before.count && n < after.count {
            XCTAssertEqual(String(decoding: after[n], as: UTF8.self), String(decoding: before[n], as: UTF8.self),
                           "answer to \(query.text) changed across the restart")
        }

        // The restored model keeps learning exactly as the original would have:
        // the same event on both sides of a restart gives the same prior.
        let observe = E2E.op("observe", ("user", E2E.id(4)), ("item", E2E.id(100)), ("rating", .number("2")))
        let restoredPrior = try XCTUnwrap(E2E.ask(secondClient, observe))
        var reference = try Model.load(from: try XCTUnwrap(snapshots.first))
        let prior = reference.observe(RatingEvent(user: .number(4), item: .number(100), rating: 2))
        XCTAssertEqual(restoredPrior["prior"], JSONValue.number(prior))
    }

    /// The queries compared across restarts: several predicts (known, unknown,
    /// text IDs), several tops (including an unknown user) and popular.
    static func probeQueries() -> [JSONValue] {
        var queries: [JSONValue] = []
        for (user, item) in [(1, 100), (3, 109), (7, 121), (12, 129), (5, 999)] {
            queries.append(E2E.op("predict", ("user", .number(String(user))), ("item", .number(String(item)))))
        }
        queries.append(E2E.op("predict", ("user", .string("alice")), ("item", .string("widget-\u{3b1}"))))
        for user in ["1", "6", "11"] {
            queries.append(E2E.op("top", ("user", .number(user)), ("n", .number("10"))))
        }
        queries.append(E2E.op("top", ("user", .string("alice")), ("n", .number("5")), ("exclude_seen", .bool(false))))
        queries.append(E2E.op("top", ("user", .string("nobody")), ("n", .number("5"))))
        queries.append(E2E.op("popular", ("n", .number("8"))))
        return queries
    }
}
