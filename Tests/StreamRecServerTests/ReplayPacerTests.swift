import StreamRecServer
import XCTest

final class ReplayPacerTests: XCTestCase {
    /// No replay is handed out on a turn where input is waiting, however much credit and budget there is.
    func testNeverReplaysWhileInputWaits() {
        var pacer = ReplayPacer(rate: 1_000_000, passes: 3, now: 0)
        pacer.earn(events: 1000, reservoirCount: 1000)
        for step in 1...100 {
            XCTAssertEqual(pacer.events(now: Double(step), inputWaiting: true), 0)
        }
        XCTAssertGreaterThan(pacer.events(now: 101, inputWaiting: false), 0, "replay resumes once input is drained")
    }

    /// Replay stops once each fresh event's passes are spent, and never exceeds passes × reservoir.
    func testReplayIsBoundedByPasses() {
        var pacer = ReplayPacer(rate: 1_000_000, passes: 2, slice: 100, now: 0)
        pacer.earn(events: 50, reservoirCount: 40)  // capped at 2 × 40
        var total = 0
        for step in 1...1000 { total += pacer.events(now: Double(step), inputWaiting: false) }
        XCTAssertEqual(total, 80)
        XCTAssertEqual(pacer.idleTimeout(now: 1001), .infinity, "a spent budget lets the loop sleep")
    }

    /// The rate caps events per second and a slice caps events per turn.
    func testRateAndSliceLimits() {
        var pacer = ReplayPacer(rate: 1000, passes: 100, slice: 64, now: 0)
        pacer.earn(events: 1000, reservoirCount: 1000)
        XCTAssertEqual(pacer.events(now: 0.01, inputWaiting: false), 10, "10 ms at 1000/s")
        XCTAssertEqual(pacer.events(now: 10, inputWaiting: false), 64, "at most one slice per turn")
        XCTAssertEqual(pacer.events(now: 10, inputWaiting: false), 0, "no credit left this instant")
        XCTAssertEqual(ReplayPacer(rate: 0, passes: 3, now: 0).idleTimeout(now: 5), .infinity, "rate 0 is off")
    }
}
