/// Decides how much background replay the event loop may do right now.
///
/// Replay is what the loop does with idle time: it runs only on a turn where
/// neither socket had anything waiting, in slices short enough (`slice`
/// events, about 0.1 ms) that a message arriving mid-slice waits no longer
/// than that, and no faster than `rate` events per second on average.
///
/// Replay is also bounded in total: each fresh event earns `passes` replays,
/// so a quiet daemon converges (as a few epochs of batch training would) and
/// then stops changing, instead of drifting for ever. The budget is not
/// persisted: a restarted daemon serves exactly what its snapshot holds
/// until new events arrive.
public struct ReplayPacer: Sendable {
    /// Events per second at most; 0 turns replay off.
    public let rate: Double
    /// Replays earned per fresh event.
    public let passes: Double
    /// Events per loop turn at most.
    public let slice: Int
    /// Replays still owed for the fresh events seen.
    public private(set) var budget: Double = 0
    private var credit: Double = 0
    private var last: Double

    public init(rate: Double, passes: Double, slice: Int = 256, now: Double) {
        self.rate = max(0, rate)
        self.passes = max(0, passes)
        self.slice = max(1, slice)
        last = now
    }

    /// Fresh events were applied: they earn replays, up to `passes` times
    /// the events the reservoir holds.
    public mutating func earn(events: Int, reservoirCount: Int) {
        budget = min(budget + passes * Double(events), passes * Double(reservoirCount))
    }

    /// How many events to replay on this turn: 0 whenever input is waiting.
    public mutating func events(now: Double, inputWaiting: Bool) -> Int {
        guard rate > 0 else { return 0 }
        credit = min(credit + (now - last) * rate, Double(slice))
        last = now
        guard !inputWaiting, credit >= 1, budget >= 1 else { return 0 }
        let count = Int(min(credit, budget))
        credit -= Double(count)
        budget -= Double(count)
        return count
    }

    /// How long the loop may sleep in `zmq_poll` before replay has a slice to run.
    public func idleTimeout(now: Double) -> Double {
        guard rate > 0, budget >= 1 else { return .infinity }
        return max(0, (Double(slice) - credit) / rate - (now - last))
    }
}
