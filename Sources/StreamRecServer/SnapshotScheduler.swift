/// Decides when to take snapshots: on a timer, when a client asks, never two
/// at once. It only returns actions; the event loop carries them out, so the
/// logic is tested without sockets or disks.
public struct SnapshotScheduler: Sendable {
    public enum Action: Equatable, Sendable {
        /// Freeze the model and start writing it in the background.
        case start
        /// Answer the client that asked, with the outcome of the write.
        case reply(succeeded: Bool)
    }

    /// Seconds between timed snapshots; 0 = no timer.
    public let interval: Double
    public private(set) var inFlight = false
    public private(set) var nextDue: Double
    /// A client is waiting for a snapshot that includes everything before its request.
    public private(set) var clientWaiting = false
    /// The snapshot in flight started before the client asked, so another must follow.
    private var rerunForClient = false

    public init(interval: Double, now: Double) {
        self.interval = interval
        nextDue = interval > 0 ? now + interval : .infinity
    }

    /// Called on every loop turn.
    public mutating func tick(now: Double) -> Action? {
        guard !inFlight, now >= nextDue else { return nil }
        inFlight = true
        return .start
    }

    /// Makes the timed snapshot due now (the log lost records and a snapshot
    /// must cover them); no client waits for it.
    public mutating func expedite(now: Double) {
        nextDue = min(nextDue, now)
    }

    /// A client sent the `snapshot` op.
    public mutating func requested() -> Action? {
        clientWaiting = true
        if inFlight {
            rerunForClient = true
            return nil
        }
        inFlight = true
        return .start
    }

    /// The background write ended.
    public mutating func finished(succeeded: Bool, now: Double) -> Action? {
        inFlight = false
        nextDue = interval > 0 ? now + interval : .infinity
        if rerunForClient {
            rerunForClient = false
            inFlight = true
            return .start
        }
        if clientWaiting {
            clientWaiting = false
            return .reply(succeeded: succeeded)
        }
        return nil
    }

    /// How long the loop may sleep before the next `tick` matters.
    public func pollTimeout(now: Double, idle: Double) -> Double {
        inFlight ? min(idle, 0.005) : max(0, min(idle, nextDue - now))
    }
}
