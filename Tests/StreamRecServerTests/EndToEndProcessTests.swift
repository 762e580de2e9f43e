// End-to-end tests of the built `streamrecd` executable as a child process:
// real ports, real signals, real snapshot files.

import Foundation
#if canImport(Glibc)
import Glibc
#endif
import StreamRecCore
import StreamRecServer
import Synchronization
import XCTest
import ZeroMQ

final class EndToEndProcessTests: XCTestCase {
    private func answers(_ client: QueryClient, _ queries: [JSONValue],
                         file: StaticString = #filePath, line: UInt = #line) -> [String] {
        queries.map { query in
            E2E.askBytes(client, query, file: file, line: line).map { String(decoding: $0, as: UTF8.self) } ?? "<none>"
        }
    }

    /// SIGTERM makes streamrecd exit 0 with a snapshot on disk, and a restart on that data dir gives byte-identical answers.
    func testSigtermWritesSnapshotAndRestartGivesIdenticalAnswers() throws {
        let dir = e2eTemporaryDirectory(self)
        let logs = e2eTemporaryDirectory(self, "logs")
        let data = E2EDataset()

        let first = try launchDaemon(dir, logs: logs, tag: "first")
        let pusher = try E2EPusher(first.pullEndpoint)
        let half = data.events.count / 2
        pusher.send(objects: data.events[..<half])
        pusher.send(batchesOf: 10, data.events[half...])
        let client = try first.client()
        E2E.waitForApplied(client, data.events.count)

        let queries = EndToEndDaemonTests.probeQueries()
        let before = answers(client, queries)
        for (query, reply) in zip(queries, before) {
            XCTAssertTrue(reply.hasPrefix(#"{"ok":true"#), "\(query.text) -> \(reply)")
        }
        XCTAssertTrue(e2eSnapshotFiles(in: dir).isEmpty, "no snapshot expected before shutdown")

        let exit = try XCTUnwrap(first.terminate(timeout: 10), "streamrecd did not exit within 10 s of SIGTERM")
        XCTAssertEqual(exit.reason, .exit, "streamrecd died of a signal; stderr:\n\(first.stderr)")
        XCTAssertEqual(exit.status, 0, "stderr:\n\(first.stderr)")
        let snapshots = e2eSnapshotFiles(in: dir)
        XCTAssertEqual(snapshots.count, 1, "expected the final snapshot: \(snapshots)")
        XCTAssertTrue(first.stderr.contains("final snapshot written"), first.stderr)

        let second = try launchDaemon(dir, logs: logs, tag: "second")
        let client2 = try second.client()
        let stats = try XCTUnwrap(E2E.ask(client2, E2E.op("stats")))
        XCTAssertEqual(stats["model_events"]?.double, Double(data.events.count))
        XCTAssertEqual(stats["snapshot"]?["path"], snapshots.first.map { JSONValue.string($0) })
        let after = answers(client2, queries)
        XCTAssertEqual(after.count, before.count)
        for (n, query) in queries.enumerated() {
            XCTAssertEqual(after[n], before[n], "answer to \(query.text) changed across the restart")
        }
        XCTAssertTrue(second.stderr.contains("restored snapshot"), second.stderr)

        let exit2 = try XCTUnwrap(second.terminate(timeout: 10), "second streamrecd did not exit on SIGTERM")
        XCTAssertEqual(exit2.status, 0, "stderr:\n\(second.stderr)")
    }

    /// A byte flipped in the newest snapshot makes a restarted streamrecd name it on stderr, restore the previous one and replay the log past it.
    func testCorruptNewestSnapshotFallsBackToPreviousOne() throws {
        let dir = e2eTemporaryDirectory(self)
        let logs = e2eTemporaryDirectory(self, "logs")
        let data = E2EDataset()
        let split = 60

        let first = try launchDaemon(dir, logs: logs, tag: "writer")
        let pusher = try E2EPusher(first.pullEndpoint)
        let client = try first.client()
        pusher.send(batchesOf: 20, data.events[..<split])
        E2E.waitForApplied(client, split)
        let queries = EndToEndDaemonTests.probeQueries()
        let stateA = answers(client, queries)
        let snapA = try XCTUnwrap(E2E.ask(client, E2E.op("snapshot")))
        XCTAssertEqual(snapA["ok"], .bool(true), snapA.text)

        pusher.send(batchesOf: 20, data.events[split...])
        E2E.waitForApplied(client, data.events.count)
        let stateB = answers(client, queries)
        XCTAssertNotEqual(stateA, stateB, "the second batch should change some answers")
        let snapB = try XCTUnwrap(E2E.ask(client, E2E.op("snapshot")))
        XCTAssertEqual(snapB["ok"], .bool(true), snapB.text)
        guard case .string(let pathA)? = snapA["path"], case .string(let pathB)? = snapB["path"] else {
            return XCTFail("snapshot replies without paths: \(snapA.text) \(snapB.text)")
        }
        XCTAssertEqual(e2eSnapshotFiles(in: dir), [pathA, pathB])

        // Crash (no final snapshot), so the two files on disk are A and A+B.
        XCTAssertTrue(first.crash(), "could not kill streamrecd")
        XCTAssertEqual(e2eSnapshotFiles(in: dir), [pathA, pathB])

        // Flip one byte in the middle of the newest snapshot.
        var bytes = try XCTUnwrap(FileManager.default.contents(atPath: pathB))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: pathB))

        let second = try launchDaemon(dir, logs: logs, tag: "restorer")
        let client2 = try second.client()
        let stats = try XCTUnwrap(E2E.ask(client2, E2E.op("stats")))
        XCTAssertEqual(stats["snapshot"]?["path"], .string(pathA), stats.text)
        // Snapshot A plus the write-ahead log from A's position rebuilds state B exactly.
        XCTAssertEqual(stats["model_events"]?.double, Double(data.events.count))
        XCTAssertEqual(answers(client2, queries), stateB, "snapshot A + the log must answer as the crashed daemon did")

        let stderr = second.stderr
        // An error-level line names the damaged file (the info line about the
        // restore names the good one, so it must not count).
        let complaint = stderr.split(separator: "\n").first { $0.contains(" error ") && $0.contains(pathB) }
        XCTAssertNotNil(complaint, "no error line on stderr names the damaged file \(pathB):\n\(stderr)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: pathB + ".damaged"), "damaged file not set aside")
        XCTAssertFalse(FileManager.default.fileExists(atPath: pathB), "damaged file still looks like a snapshot")

        let exit = try XCTUnwrap(second.terminate(timeout: 10), "streamrecd did not exit on SIGTERM")
        XCTAssertEqual(exit.reason, .exit)
        XCTAssertEqual(exit.status, 0, "stderr:\n\(second.stderr)")
        // The damaged file is kept for a post-mortem; it is neither loaded nor pruned.
        XCTAssertTrue(FileManager.default.fileExists(atPath: pathB + ".damaged"))
    }

    /// SIGTERM while a producer keeps pushing: exit 0 within the shutdown bound, and the final snapshot holds every event the daemon applied.
    func testSigtermUnderLoadKeepsEveryAppliedEvent() throws {
        let dir = e2eTemporaryDirectory(self)
        let logs = e2eTemporaryDirectory(self, "logs")
        let daemon = try launchDaemon(dir, logs: logs, tag: "load", arguments: ["--shutdown-timeout", "3"])
        let producer = LoadProducer(endpoint: daemon.pullEndpoint)
        defer { producer.stop() }
        E2E.waitForApplied(try daemon.client(), 5_000, timeout: 20)

        let signalled = Date()
        let exit = try XCTUnwrap(daemon.terminate(timeout: 15), "streamrecd did not exit within 15 s of SIGTERM")
        let seconds = Date().timeIntervalSince(signalled)
        producer.stop()
        XCTAssertEqual(exit.reason, .exit, daemon.stderr)
        XCTAssertEqual(exit.status, 0, daemon.stderr)
        XCTAssertLessThan(seconds, 8, "shutdown took longer than --shutdown-timeout 3 plus the snapshot")

        let final = try XCTUnwrap(daemon.stderr.split(separator: "\n").first { $0.contains("final snapshot written") }, daemon.stderr)
        let field = final.components(separatedBy: "events_applied=").last?.prefix { $0.isNumber }
        let applied = try XCTUnwrap(field.flatMap { UInt64($0) }, String(final))
        XCTAssertGreaterThanOrEqual(applied, 5_000)
        XCTAssertLessThanOrEqual(applied, producer.sentEvents)
        let snapshot = try XCTUnwrap(e2eSnapshotFiles(in: dir).last)
        let bytes = try AtomicFile.read(snapshot)
        let model = try bytes.withUnsafeBytes { try SnapshotFormat.decode($0).model }
        XCTAssertEqual(model.eventsApplied, applied, "the final snapshot misses applied events")
    }

    /// Two SIGTERMs microseconds apart (as coreutils `timeout` sends them, to the process and its group) are one
    /// request: the daemon still writes its final snapshot and exits 0.
    func testTwoSignalsAtOnceStillWriteTheFinalSnapshot() throws {
        let dir = e2eTemporaryDirectory(self)
        let daemon = try launchDaemon(dir, logs: e2eTemporaryDirectory(self, "logs"), tag: "twice")
        let pusher = try E2EPusher(daemon.pullEndpoint)
        pusher.send(batchesOf: 10, E2EDataset().events[...])
        E2E.waitForApplied(try daemon.client(), E2EDataset().events.count)
        kill(daemon.process.processIdentifier, SIGTERM)
        kill(daemon.process.processIdentifier, SIGTERM)
        let status = try XCTUnwrap(daemon.waitForExit(timeout: 15), "streamrecd did not exit")
        XCTAssertEqual(status, 0, daemon.stderr)
        XCTAssertTrue(daemon.stderr.contains("final snapshot written"), daemon.stderr)
    }
}

/// Pushes batches of 50 fresh events from its own thread until stopped (or 30 s pass).
private final class LoadProducer: Sendable {
    private let stopFlag = Atomic<Bool>(false)
    private let sent = Atomic<UInt64>(0)
    private let done = DispatchSemaphore(value: 0)

    init(endpoint: String) {
        Thread { [self] in
            defer { done.signal() }
            guard let pusher = try? E2EPusher(endpoint) else { return }
            let start = Date()
            var n: UInt64 = 0
            while !stopFlag.load(ordering: .relaxed), Date().timeIntervalSince(start) < 30 {
                let batch = (0..<50).map { k in
                    RatingEvent(user: .number((n + k) % 997), item: .number((n + k) % 491), rating: Float((n + k) % 10 + 1))
                }
                // Non-blocking: once the daemon unbinds, sends fail or queue, and the test must not hang on them.
                if (try? pusher.socket.send(EventEncoder.jsonBatch(batch), dontWait: true)) == true {
                    sent.add(50, ordering: .relaxed)
                    n += 50
                } else {
                    usleep(1000)
                }
            }
        }.start()
    }

    /// Events handed to ZeroMQ so far.
    var sentEvents: UInt64 { sent.load(ordering: .relaxed) }

    func stop() {
        guard !stopFlag.exchange(true, ordering: .relaxed) else { return }
        done.wait()
    }
}
