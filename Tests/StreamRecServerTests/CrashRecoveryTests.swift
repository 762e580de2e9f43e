// Crash tests of the write-ahead log against the real `streamrecd`: a steady
// PUSH load plus `observe` calls, kill -9 at seeded random moments, restart,
// and check what survived. Loss figures are printed for docs/DURABILITY.md.

import Foundation
#if canImport(Glibc)
import Glibc
#endif
import StreamRecCore
import StreamRecServer
import Synchronization
import XCTest
import ZeroMQ

final class CrashRecoveryTests: XCTestCase {
    /// Events per second the producer pushes (batches of 10 every 2 ms).
    static let pushRate = 5_000

    /// Pushes batches of 10 events at `pushRate` on its own thread until
    /// stopped; counts only what the PUSH socket accepted.
    final class Producer: @unchecked Sendable {
        let accepted = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        private let done = DispatchSemaphore(value: 0)

        init(endpoint: String, tag: String) throws {
            let socket = try Socket(Context(), .push)
            try socket.setOption(SocketOption.linger, Int32(0))
            try socket.setOption(SocketOption.sendTimeout, Int32(50))
            try socket.connect(endpoint)
            Thread { [self] in
                var k = 0
                let start = Clock.monotonic()
                while !stop.load(ordering: .relaxed) {
                    let batch = (0..<10).map { j -> RatingEvent in
                        let n = k + j
                        return RatingEvent(user: .text("\(tag)-u\(n % 97)"), item: .number(UInt64(n % 89)), rating: Float(n % 10 + 1))
                    }
                    guard (try? socket.send(EventEncoder.jsonBatch(batch))) == true else { break }
                    k += 10
                    accepted.store(k, ordering: .relaxed)
                    let due = start + Double(k) / Double(CrashRecoveryTests.pushRate)
                    let wait = due - Clock.monotonic()
                    if wait > 0 { usleep(UInt32(wait * 1e6)) }
                }
                done.signal()
            }.start()
        }

        func finish() -> Int {
            stop.store(true, ordering: .relaxed)
            done.wait()
            return accepted.load(ordering: .relaxed)
        }
    }

    struct Round {
        var policy: String
        var pushed = 0
        var acknowledged: [String] = []
        var recovered = 0
        var lost: Int { max(0, pushed + acknowledged.count - recovered) }
    }

    /// One round: start on `dir`, load it, kill -9 after `killAfter` s, copy
    /// the data dir, restart, and check the recovered daemon against an
    /// offline rebuild from the copy. Leaves the daemon stopped.
    private func crashRound(policy: String, round: Int, dir: String, logs: String, killAfter: Double) throws -> Round {
        var result = Round(policy: policy)
        let tag = "\(policy)-\(round)"
        let args = ["--fsync", policy, "--snapshot-interval", "0.3"]
        let daemon = try launchDaemon(dir, logs: logs, tag: tag, arguments: args)
        let client = try daemon.client(timeout: 5)
        let before = Int(E2E.ask(client, E2E.op("stats"))?["model_events"]?.double ?? -1)
        let producer = try Producer(endpoint: daemon.pullEndpoint, tag: tag)

        // kill -9 from another thread while observes are in flight. What the
        // producer pushes after the kill piles up in its own queue: not counted.
        let pushedAtKill = Atomic<Int>(0)
        let killer = Thread {
            usleep(UInt32(killAfter * 1e6))
            pushedAtKill.store(producer.accepted.load(ordering: .relaxed), ordering: .relaxed)
            _ = daemon.crash()
        }
        killer.start()
        let observer = try daemon.client(timeout: 0.5)
        var k = 0
        while true {
            let user = "\(tag)-o\(k)"
            guard let reply = try? observer.request(E2E.op("observe", ("user", .string(user)), ("item", .number("7")),
                                                           ("rating", .number("5")))) else { break }
            XCTAssertEqual(reply["ok"], .bool(true), reply.text)
            result.acknowledged.append(user)
            k += 1
        }
        _ = producer.finish()
        result.pushed = pushedAtKill.load(ordering: .relaxed)
        while daemon.process.isRunning { usleep(1000) }

        // The offline rebuild works on a copy taken before the restart repairs anything.
        let copy = dir + "-copy-\(tag)"
        try FileManager.default.copyItem(atPath: dir, toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }

        let restarted = try launchDaemon(dir, logs: logs, tag: tag + "-restart", arguments: args)
        let client2 = try restarted.client()
        let stats = try XCTUnwrap(E2E.ask(client2, E2E.op("stats")))
        result.recovered = Int(stats["model_events"]?.double ?? -1) - before
        XCTAssertNil(stats["log_error"], stats.text)

        // The recovered model equals, exactly, snapshot + log rebuilt offline.
        let snap = try XCTUnwrap(E2E.ask(client2, E2E.op("snapshot")))
        guard case .string(let path)? = snap["path"] else { throw DaemonError("snapshot failed: \(snap.text)") }
        let served = try Model.load(from: path)
        let store = try SnapshotStore(directory: copy)
        var offline = Model(settings: served.settings)
        var position: UInt64 = 0
        if let (model, info) = try store.restoreNewest(warn: { print("offline rebuild: \($0)") }) {
            offline = model
            position = info.logPosition
        }
        let report = try LogRecovery.recover(model: &offline, from: position, directory: copy, repair: false)
        XCTAssertNil(report.gapAt, "\(report.warnings)")
        XCTAssertTrue(offline == served, "round \(tag): the recovered model differs from the offline rebuild")

        if policy == "always" {
            // Every acknowledged observe is in the recovered model.
            for user in result.acknowledged {
                let reply = E2E.ask(client2, E2E.op("predict", ("user", .string(user)), ("item", .number("7"))))
                XCTAssertEqual(reply?["source"], .string("model"), "acknowledged observe by \(user) lost in round \(tag)")
            }
        }
        XCTAssertNotNil(restarted.terminate(), "clean stop after round \(tag)")
        print("crash round \(tag): killed after \(String(format: "%.2f", killAfter)) s; pushed \(result.pushed), "
              + "acknowledged \(result.acknowledged.count) observes, recovered \(result.recovered) events, lost \(result.lost)")
        return result
    }

    private func crashRounds(policy: String, seed: UInt64, rounds: Int = 3) throws -> [Round] {
        let dir = e2eTemporaryDirectory(self)
        let logs = e2eTemporaryDirectory(self, "logs")
        var rng = SplitMix64(seed: seed)
        return try (0..<rounds).map { round in
            let killAfter = 0.4 + Double(rng.next() % 800) / 1000
            return try crashRound(policy: policy, round: round, dir: dir, logs: logs, killAfter: killAfter)
        }
    }

    /// --fsync always: after kill -9 at random moments, every acknowledged observe is recovered, and recovery is exact.
    func testAlwaysKeepsEveryAcknowledgedObserve() throws {
        let rounds = try crashRounds(policy: "always", seed: 1)
        XCTAssertTrue(rounds.allSatisfy { !$0.acknowledged.isEmpty && $0.pushed > 0 }, "load ran in every round")
    }

    /// --fsync everysec: kill -9 under load loses at most about one second of events per round, and recovery is exact.
    func testEverysecLosesAtMostASecond() throws {
        for round in try crashRounds(policy: "everysec", seed: 2) {
            XCTAssertLessThanOrEqual(round.lost, Self.pushRate + 200, "lost \(round.lost) events in one round")
        }
    }

    /// --fsync no: a process kill (the OS survives) still loses only unflushed input, and recovery is exact.
    func testNoPolicyRecoversExactly() throws {
        for round in try crashRounds(policy: "no", seed: 3, rounds: 2) {
            XCTAssertLessThanOrEqual(round.lost, Self.pushRate + 200, "lost \(round.lost) events in one round")
        }
    }
}
