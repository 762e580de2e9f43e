/// Event counts since the daemon started. `received == applied + rejected` always.
public struct IngestCounters: Sendable, Equatable {
    public private(set) var received: UInt64 = 0
    public private(set) var applied: UInt64 = 0
    public private(set) var rejected: [RejectReason: UInt64] = [:]
    /// Events learned again from the reservoir in idle time (not part of the sum above).
    public private(set) var replayed: UInt64 = 0

    public init() {}

    public var rejectedTotal: UInt64 { rejected.values.reduce(0, +) }

    public mutating func countApplied(_ events: Int) {
        received += UInt64(events)
        applied += UInt64(events)
    }

    public mutating func countReplayed(_ events: Int) { replayed += UInt64(events) }

    public mutating func countRejected(_ rejection: Rejection) {
        received += UInt64(rejection.events)
        rejected[rejection.reason, default: 0] += UInt64(rejection.events)
    }
}
