import Foundation
import StreamRecCore
@testable import StreamRecServer
import XCTest

/// What an operator's common mistakes get: a clear refusal, not silent loss.
final class OperatorMistakeTests: XCTestCase {
    private func push(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let executable = try XCTUnwrap(E2EExecutable.url("streamrec"), "streamrec not built")
        return try e2eRun(executable, ["push"] + arguments)
    }

    /// A ratings file of `count` good lines, with `bad` (if given) after line 100.
    private func ratingsFile(_ count: Int, bad: String? = nil) throws -> String {
        let path = e2eTemporaryDirectory(self, "files") + "/ratings.tsv"
        var lines = ""
        for n in 0..<count {
            lines += "\(n % 37)\t\(n % 23)\t\(1 + n % 10)\n"
            if n == 99, let bad { lines += bad + "\n" }
        }
        try lines.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A data directory the daemon cannot create files in is refused at start, naming it, even when `LOCK` from an earlier run is still writable.
    func testUnwritableDataDirectoryWithAnOldLockIsRefused() throws {
        let daemon = try XCTUnwrap(E2EExecutable.url("streamrecd"), "streamrecd not built")
        let dir = e2eTemporaryDirectory(self)
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/LOCK", contents: Data("1\n".utf8)))
        // Root ignores permissions: then the daemon runs as nobody, owning LOCK but not allowed to add files.
        var command = [daemon.path]
        if getuid() == 0 {
            let setpriv = "/usr/bin/setpriv"
            try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: setpriv), "running as root without setpriv")
            let nobody = try XCTUnwrap(getpwnam("nobody")?.pointee, "no user nobody")
            XCTAssertEqual(chown(dir + "/LOCK", nobody.pw_uid, nobody.pw_gid), 0)
            XCTAssertEqual(chmod(dir + "/LOCK", 0o644), 0)
            // The temp directories above it must let nobody through.
            var parent = dir
            while parent != "/" && parent != "" {
                parent = (parent as NSString).deletingLastPathComponent
                var info = stat()
                if stat(parent, &info) == 0 { _ = chmod(parent, info.st_mode | 0o005) }
            }
            command = [setpriv, "--reuid=\(nobody.pw_uid)", "--regid=\(nobody.pw_gid)", "--clear-groups", daemon.path]
        }
        XCTAssertEqual(chmod(dir, 0o555), 0)
        addTeardownBlock { _ = chmod(dir, 0o755) }
        // Bounded: a daemon that is not refused would serve until stopped (coreutils timeout exits 124 then).
        command = ["/usr/bin/timeout", "20"] + command
        let run = try e2eRun(URL(fileURLWithPath: command[0]), Array(command.dropFirst()) + [
            "--data-dir", dir, "--pull", "tcp://127.0.0.1:0", "--rep", "tcp://127.0.0.1:0", "--metrics", "off"])
        XCTAssertEqual(run.status, 1, run.output)
        XCTAssertTrue(run.output.contains("cannot write to the data directory: create \(dir)/LOCK.probe-"), run.output)
    }

    /// A second daemon on a data directory in use refuses to start, naming the directory and the holder's PID; once
    /// the first has stopped, the directory can be used again.
    func testSecondDaemonOnTheSameDataDirectoryIsRefused() throws {
        let dir = e2eTemporaryDirectory(self)
        let first = try E2EDaemonRunner(dataDirectory: dir)
        addTeardownBlock { first.stop() }
        // As if the first were writing a snapshot: the refused daemon must not clean it away.
        let inProgress = dir + "/snapshot-0001700000000000.srs.tmp-4242"
        XCTAssertTrue(FileManager.default.createFile(atPath: inProgress, contents: Data([1, 2, 3])))
        XCTAssertThrowsError(try E2EDaemonRunner(dataDirectory: dir)) { error in
            XCTAssertTrue("\(error)".contains("data directory \(dir) is in use by another streamrecd (pid \(getpid()))"), "\(error)")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: inProgress), "the refused daemon touched the first one's files")
        XCTAssertTrue(first.stop())
        let second = try E2EDaemonRunner(dataDirectory: dir)
        XCTAssertTrue(second.stop())
    }

    /// When a snapshot's model settings win over the command line's, the notice names only the settings that differ,
    /// by flag, with both values.
    func testSettingsNoticeNamesWhatDiffers() {
        var asked = ModelSettings()
        asked.factors = 16
        asked.neighbourSlots = 0
        XCTAssertEqual(Daemon.differences(kept: ModelSettings(), asked: asked), "factors 32 (asked 16), neighbour-slots 1024 (asked 0)")
        XCTAssertEqual(Daemon.differences(kept: asked, asked: asked), "none differ")
    }

    /// `--max-abs-rating 10` (flag or config key) keeps a rating of 11 out of the model: it is counted as bad_rating;
    /// 0 is refused as a setting.
    func testMaxAbsRatingRejectsRatingsBeyondTheScale() throws {
        var config = DaemonConfig()
        try ConfigLoader.apply([("max-abs-rating", .scalar("10"))], to: &config, source: "flags")
        XCTAssertEqual(config.maxAbsRating, 10)
        let runner = try E2EDaemonRunner(dataDirectory: e2eTemporaryDirectory(self)) { $0.maxAbsRating = config.maxAbsRating }
        addTeardownBlock { runner.stop() }
        let pusher = try runner.pusher()
        pusher.send(#"{"user":1,"item":2,"rating":11}"#)
        pusher.send(#"{"user":1,"item":3,"rating":10}"#)
        let stats = try XCTUnwrap(E2E.waitForStats(try runner.client(), "both counted") { ($0["events_received"]?.double ?? 0) >= 2 })
        XCTAssertEqual(E2E.rejected(stats, "bad_rating"), 1)
        XCTAssertEqual(stats["events_applied"]?.double, 1)
        config.maxAbsRating = 0
        XCTAssertThrowsError(try config.validate())
    }

    /// An endpoint without a transport (`127.0.0.1:5555`) is refused by the settings check, naming the setting.
    func testEndpointWithoutTransportIsRefused() {
        var config = DaemonConfig()
        config.pullEndpoint = "127.0.0.1:5555"
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".hasPrefix("pull must be a ZeroMQ endpoint"), "\($0)") }
        config.pullEndpoint = "tcp://127.0.0.1:5555"
        config.repEndpoint = "localhost:5556"
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".hasPrefix("rep must be a ZeroMQ endpoint"), "\($0)") }
    }

    /// A negative or zero number for a numeric flag of the daemon or the client reaches a range check that names the
    /// flag, instead of being taken for a flag ("Missing value") or failing deep inside (a crash, a setsockopt error);
    /// the command exits non-zero without doing anything.
    func testOutOfRangeNumericFlagsGetTheRangeError() throws {
        let daemon = try XCTUnwrap(E2EExecutable.url("streamrecd"), "streamrecd not built")
        let client = try XCTUnwrap(E2EExecutable.url("streamrec"), "streamrec not built")
        let cases = [(daemon, ["--busy-poll", "-1", "--print-config"], "busy-poll must be 0...1000000"),
                     (daemon, ["--factors", "-4", "--print-config"], "factors must be 1...1024, got -4"),
                     (daemon, ["--replay-rate", "-5", "--print-config"], "replay-rate must be >= 0"),
                     (client, ["bench", "--runs", "0"], "--runs must be at least 1 (got 0)"),
                     (client, ["stats", "--timeout", "-1"], "--timeout must be a positive number of seconds"),
                     (client, ["push", "x", "--batch", "-3"], "--batch must be 1...10000")]
        for (executable, arguments, message) in cases {
            let (status, output) = try e2eRun(executable, arguments)
            XCTAssertNotEqual(status, 0, "\(arguments)")
            XCTAssertTrue(output.contains(message), "\(arguments): \(output)")
        }
    }

    /// `push` of a file whose one bad rating makes the daemon drop its message says how many events were rejected and
    /// why, and exits 1; a clean file exits 0.
    func testPushReportsRejectedEvents() throws {
        let runner = try E2EDaemonRunner(dataDirectory: e2eTemporaryDirectory(self))
        addTeardownBlock { runner.stop() }
        let endpoints = ["--pull", runner.pullEndpoint, "--rep", runner.repEndpoint, "--batch", "50"]
        let clean = try push([try ratingsFile(200)] + endpoints)
        XCTAssertEqual(clean.status, 0, clean.output)
        XCTAssertTrue(clean.output.contains("all taken by the daemon") && !clean.output.contains("rejected"), clean.output)

        let dirty = try push([try ratingsFile(200, bad: "5\t5\t1e9")] + endpoints)
        XCTAssertEqual(dirty.status, 1, dirty.output)
        XCTAssertTrue(dirty.output.contains("the daemon rejected 50 of the 201 events (50 bad_rating)"), dirty.output)
        let stats = try XCTUnwrap(E2E.ask(try runner.client(), E2E.op("stats")))
        XCTAssertEqual(stats["events_applied"]?.double, 351)
    }

    /// `push` to endpoints no daemon listens on fails within about --timeout with a message naming the endpoint,
    /// instead of queueing forever: the query endpoint when it waits for the daemon, the ingest one with `--no-wait`,
    /// and the ingest one when the query endpoint is a live daemon's but `--pull` is not.
    func testPushToAWrongEndpointFailsInTime() throws {
        let file = try ratingsFile(10)
        let nobody = "tcp://127.0.0.1:\(try XCTUnwrap(E2EExecutable.freePort()))"
        let runner = try E2EDaemonRunner(dataDirectory: e2eTemporaryDirectory(self))
        addTeardownBlock { runner.stop() }
        let cases: [([String], String)] = [
            (["--rep", nobody], "no reply from \(nobody) in time"),
            (["--no-wait"], "the daemon at \(nobody) took nothing for 1.0 s"),
            (["--rep", runner.repEndpoint], "the daemon at \(nobody) took nothing for 1.0 s"),
        ]
        for (extra, message) in cases {
            let started = Date()
            let result = try push([file, "--pull", nobody, "--timeout", "1"] + extra)
            XCTAssertEqual(result.status, 1, result.output)
            XCTAssertTrue(result.output.contains(message), "\(extra): \(result.output)")
            XCTAssertLessThan(Date().timeIntervalSince(started), 30, "push waited far past its --timeout")
        }
    }
}
