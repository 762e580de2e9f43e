import XCTest
@testable import StreamRecServer

/// The snapshot scheduler's state machine, driven with explicit times.
final class SnapshotSchedulerTests: XCTestCase {
    /// The timer fires once the interval has passed, not before, and re-arms from the end of the write.
    func testTimerStartsAfterInterval() {
        var s = SnapshotScheduler(interval: 10, now: 100)
        XCTAssertNil(s.tick(now: 100))
        XCTAssertNil(s.tick(now: 109.999))
        XCTAssertEqual(s.tick(now: 110), .start)
        XCTAssertTrue(s.inFlight)
        XCTAssertNil(s.finished(succeeded: true, now: 112), "no client was waiting")
        XCTAssertFalse(s.inFlight)
        XCTAssertEqual(s.nextDue, 122)
        XCTAssertNil(s.tick(now: 121.9))
        XCTAssertEqual(s.tick(now: 122), .start)
    }

    /// While a snapshot is in flight neither the timer nor a late tick starts a second one.
    func testNeverTwoInFlight() {
        var s = SnapshotScheduler(interval: 1, now: 0)
        XCTAssertEqual(s.tick(now: 1), .start)
        for t in stride(from: 1.0, through: 50, by: 0.5) { XCTAssertNil(s.tick(now: t), "tick at \(t)") }
        XCTAssertNil(s.finished(succeeded: false, now: 50))
        XCTAssertEqual(s.tick(now: 51), .start, "a failed write does not stop the timer")
    }

    /// A client request when idle starts a snapshot at once and gets the reply when it ends.
    func testClientRequestWhenIdle() {
        var s = SnapshotScheduler(interval: 60, now: 0)
        XCTAssertEqual(s.requested(), .start)
        XCTAssertTrue(s.clientWaiting)
        XCTAssertNil(s.tick(now: 1000), "the timer does not start a second one")
        XCTAssertEqual(s.finished(succeeded: true, now: 5), .reply(succeeded: true))
        XCTAssertFalse(s.clientWaiting)
        XCTAssertFalse(s.inFlight)
        XCTAssertEqual(s.nextDue, 65, "a client snapshot also re-arms the timer")
    }

    /// A request during a timed snapshot waits for a fresh rerun (which includes its events), then gets that rerun's outcome.
    func testClientRequestWhileInFlightTriggersRerun() {
        var s = SnapshotScheduler(interval: 10, now: 0)
        XCTAssertEqual(s.tick(now: 10), .start)
        XCTAssertNil(s.requested(), "no second write while one is in flight")
        XCTAssertNil(s.requested(), "a second request does not queue a second rerun")
        XCTAssertEqual(s.finished(succeeded: true, now: 11), .start, "the rerun")
        XCTAssertTrue(s.inFlight)
        XCTAssertTrue(s.clientWaiting)
        XCTAssertEqual(s.finished(succeeded: false, now: 12), .reply(succeeded: false), "the reply reports the rerun's outcome")
        XCTAssertNil(s.finished(succeeded: true, now: 13), "nothing more is pending")
        XCTAssertFalse(s.inFlight)
    }

    /// Interval 0 never ticks, however far time advances, but client requests still work.
    func testIntervalZeroNeverTicks() {
        var s = SnapshotScheduler(interval: 0, now: 0)
        XCTAssertEqual(s.nextDue, .infinity)
        for t in [0.0, 1, 1e6, 1e300] { XCTAssertNil(s.tick(now: t)) }
        XCTAssertEqual(s.requested(), .start)
        XCTAssertEqual(s.finished(succeeded: true, now: 5), .reply(succeeded: true))
        XCTAssertNil(s.tick(now: 1e300))
        XCTAssertEqual(s.pollTimeout(now: 5, idle: 0.25), 0.25)
    }

    /// pollTimeout sleeps until the next due time (capped by idle), and polls fast while a write is in flight.
    func testPollTimeout() {
        var s = SnapshotScheduler(interval: 10, now: 0)
        XCTAssertEqual(s.pollTimeout(now: 0, idle: 1), 1)
        XCTAssertEqual(s.pollTimeout(now: 9.5, idle: 1), 0.5, accuracy: 1e-9)
        XCTAssertEqual(s.pollTimeout(now: 11, idle: 1), 0)
        XCTAssertEqual(s.tick(now: 11), .start)
        XCTAssertEqual(s.pollTimeout(now: 11, idle: 1), 0.005)
    }
}

/// The log rate limiter.
final class RateLimiterTests: XCTestCase {
    /// One line per key per interval gets through; the next one reports how many were suppressed meanwhile.
    func testLimitsAndCountsSuppressed() {
        var limiter = RateLimiter<String>(interval: 1)
        XCTAssertEqual(limiter.allow("a", now: 0), 0)
        XCTAssertNil(limiter.allow("a", now: 0.5))
        XCTAssertNil(limiter.allow("a", now: 0.999))
        XCTAssertEqual(limiter.allow("b", now: 0.5), 0, "keys are independent")
        XCTAssertEqual(limiter.allow("a", now: 1.0), 2)
        XCTAssertNil(limiter.allow("a", now: 1.5))
        XCTAssertEqual(limiter.allow("a", now: 10), 1)
        XCTAssertEqual(limiter.allow("a", now: 20), 0, "the count resets after it is reported")
        XCTAssertEqual(limiter.allow("b", now: 1.5), 0)
    }

    /// With interval 0 every line gets through.
    func testZeroIntervalAllowsEverything() {
        var limiter = RateLimiter<Int>(interval: 0)
        for k in 0..<5 { XCTAssertEqual(limiter.allow(1, now: 3), 0, "call \(k)") }
    }
}
