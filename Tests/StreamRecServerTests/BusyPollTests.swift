#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import StreamRecServer
import XCTest
import ZeroMQ

/// `Poller.poll(spinning:since:enabled:)` over a real PUSH→PULL pair on loopback TCP.
final class BusyPollTests: XCTestCase {
    private func pair() throws -> (context: Context, pull: Socket, push: Socket) {
        let context = try Context()
        let pull = try Socket(context, .pull)
        try pull.setOption(SocketOption.linger, Int32(0))
        try pull.bind("tcp://127.0.0.1:*")
        let push = try Socket(context, .push)
        try push.setOption(SocketOption.linger, Int32(0))
        try push.connect(pull.lastEndpoint)
        return (context, pull, push)
    }

    /// This thread's CPU time in seconds.
    private func threadCPU() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// A message that arrives during the spin is seen at once, and so is one that arrives after it, once the poller sleeps.
    func testSeesMessagesDuringAndAfterTheSpin() throws {
        let (_, pull, push) = try pair()
        var poller = Poller([pull])
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.02) { _ = try? push.send("during") }
        XCTAssertEqual(try poller.poll(spinning: 2, since: Clock.monotonic(), enabled: [true]), [true])
        XCTAssertEqual(try pull.receive(dontWait: true).map { String(decoding: $0, as: UTF8.self) }, "during")

        let sent = Clock.monotonic()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { _ = try? push.send("after") }
        XCTAssertEqual(try poller.poll(spinning: 0.05, since: Clock.monotonic(), enabled: [true]), [true])
        XCTAssertGreaterThanOrEqual(Clock.monotonic() - sent, 0.25)
        XCTAssertEqual(try pull.receive(dontWait: true).map { String(decoding: $0, as: UTF8.self) }, "after")
    }

    /// The poller spins for its window and then sleeps: waiting 0.6 s with a 0.1 s spin costs CPU, but far less than the wait.
    func testSpinsForItsWindowThenSleeps() throws {
        let (_, pull, push) = try pair()
        var poller = Poller([pull])
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.6) { _ = try? push.send("late") }
        let cpu = threadCPU()
        XCTAssertEqual(try poller.poll(spinning: 0.1, since: Clock.monotonic(), enabled: [true]), [true])
        let spent = threadCPU() - cpu
        XCTAssertGreaterThan(spent, 0.01, "the poller slept at once instead of spinning")
        XCTAssertLessThan(spent, 0.3, "the poller kept spinning past its window")
    }

    /// `IngestActivity` reports ingest as busy for `quiet` seconds after a mark, and never before the first one.
    func testIngestActivityIsBusyForTheQuietWindowOnly() {
        let activity = IngestActivity()
        XCTAssertFalse(activity.isBusy(now: 100))
        activity.mark(now: 100)
        XCTAssertTrue(activity.isBusy(now: 100 + IngestActivity.quiet / 2))
        XCTAssertFalse(activity.isBusy(now: 100 + IngestActivity.quiet * 2))
    }
}
