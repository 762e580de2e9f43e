// Disk trouble while the daemon runs: the data directory deleted, and writes
// failing as on a full disk (a file-size limit makes write(2) fail with
// EFBIG, through the same error paths as ENOSPC). The daemon must log it,
// show it in `stats`, keep serving, keep the last good snapshot, and retry.
// (A read-only directory is not tested: CI runs as root, which ignores modes.)

import Foundation
#if canImport(Glibc)
import Glibc
#endif
import StreamRecCore
import StreamRecServer
import XCTest

final class DiskTroubleTests: XCTestCase {
    private func observe(_ client: QueryClient, _ n: Int, tag: String) {
        for k in 0..<n {
            let reply = E2E.ask(client, E2E.op("observe", ("user", .string("\(tag)\(k % 17)")), ("item", .number(String(k % 13))),
                                               ("rating", .number(String(k % 5 + 1)))))
            XCTAssertEqual(reply?["ok"], .bool(true), reply?.text ?? "no reply")
        }
    }

    /// Deleting the data directory under a running daemon shows log_error and snapshot_error in stats while queries
    /// still work; recreating it clears the log error, and a restart then recovers every event.
    func testDataDirectoryDeletedWhileRunning() throws {
        let dir = e2eTemporaryDirectory(self)
        let runner = try E2EDaemonRunner(dataDirectory: dir)
        addTeardownBlock { runner.stop() }
        let client = try runner.client()
        observe(client, 50, tag: "a")
        XCTAssertEqual(E2E.ask(client, E2E.op("snapshot"))?["ok"], .bool(true))

        try FileManager.default.removeItem(atPath: dir)
        observe(client, 10, tag: "b")
        let troubled = E2E.waitForStats(client, timeout: 5, "log_error") { $0["log_error"] != nil }
        XCTAssertTrue(troubled?["log_error"]?.text.contains("deleted") == true, troubled?.text ?? "")
        let failed = E2E.ask(client, E2E.op("snapshot"))
        XCTAssertEqual(failed?["ok"], .bool(false), failed?.text ?? "")
        XCTAssertNotNil(E2E.ask(client, E2E.op("stats"))?["snapshot_error"])
        XCTAssertEqual(E2E.ask(client, E2E.op("predict", ("user", .string("a1")), ("item", .number("1"))))?["source"],
                       .string("model"), "queries are still served")
        observe(client, 10, tag: "c")

        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        E2E.waitForStats(client, timeout: 5, "log_error cleared") { $0["log_error"] == nil }
        // The log asks for a snapshot once it works again; wait for it rather than race it.
        E2E.waitForStats(client, timeout: 5, "a snapshot in the recreated directory") { _ in !e2eSnapshotFiles(in: dir).isEmpty }
        observe(client, 5, tag: "d")
        XCTAssertTrue(runner.logs.lines.contains { $0.contains("was deleted") }, "the trouble is logged")
        runner.stop()

        let restarted = try E2EDaemonRunner(dataDirectory: dir)
        defer { restarted.stop() }
        XCTAssertEqual(E2E.ask(try restarted.client(), E2E.op("stats"))?["model_events"]?.double, 75)
    }

    /// Writes failing with EFBIG (ulimit -f, like a full disk) set log_error and snapshot_error, keep the earlier
    /// snapshot loadable, and lose no event: a kill -9 afterwards recovers all of them from the retried log.
    func testWriteFailuresKeepSnapshotAndLoseNothing() throws {
        let dir = e2eTemporaryDirectory(self)
        let logs = e2eTemporaryDirectory(self, "logs")
        // dash counts ulimit -f in 512-byte blocks: every file is capped at 32 KiB.
        let daemon = try launchDaemon(dir, logs: logs, tag: "efbig", arguments: ["--factors", "2"], shellPrefix: "ulimit -f 64")
        let client = try daemon.client()
        let pusher = try E2EPusher(daemon.pullEndpoint)
        func events(_ range: Range<Int>) -> ArraySlice<RatingEvent> {
            ArraySlice(range.map { RatingEvent(user: .text("t-u\($0 % 61)"), item: .number(UInt64($0 % 47)), rating: Float($0 % 9 + 1)) })
        }
        pusher.send(batchesOf: 10, events(0..<1000))
        E2E.waitForApplied(client, 1000)
        let good = try XCTUnwrap(E2E.ask(client, E2E.op("snapshot")))
        guard case .string(let goodPath)? = good["path"] else { return XCTFail("first snapshot failed: \(good.text)") }

        // The log segment passes 32 KiB during this batch: write fails, the
        // records stay queued, and a new segment takes them a second later.
        pusher.send(batchesOf: 10, events(1000..<2000))
        E2E.waitForApplied(client, 2000)
        let troubled = E2E.waitForStats(client, timeout: 5, "log_error") { $0["log_error"] != nil }
        XCTAssertTrue(troubled?["log_error"]?.text.contains("File too large") == true, troubled?.text ?? "")
        E2E.waitForStats(client, timeout: 5, "log_error cleared by the retry") { $0["log_error"] == nil }

        // The model no longer fits in 32 KiB: the snapshot fails, the good one stays.
        let failed = try XCTUnwrap(E2E.ask(client, E2E.op("snapshot")))
        XCTAssertEqual(failed["ok"], .bool(false), failed.text)
        XCTAssertNotNil(E2E.ask(client, E2E.op("stats"))?["snapshot_error"])
        XCTAssertEqual(try Model.load(from: goodPath).eventsApplied, 1000, "the last good snapshot is intact")
        XCTAssertEqual(E2E.ask(client, E2E.op("popular", ("n", .number("1"))))?["ok"], .bool(true), "still serving")

        XCTAssertTrue(daemon.crash())
        let restarted = try launchDaemon(dir, logs: logs, tag: "efbig-restart")
        XCTAssertEqual(E2E.ask(try restarted.client(), E2E.op("stats"))?["model_events"]?.double, 2000,
                       "snapshot + retried log recover every event")
    }
}
