/// One event as the model stores it: rows, not external IDs.
public struct RecentEvent: Sendable, Equatable, BitwiseCopyable {
    public var user: Int32
    public var item: Int32
    public var rating: Float
}

/// The last `capacity` events, in a ring. Replay and the popular negative
/// sampler draw from it; a draw is uniform over recent events, so items come
/// up in proportion to how often they were rated lately.
public struct Reservoir: Sendable, Equatable {
    public let capacity: Int
    /// The events held, in ring order (not time order once it wraps).
    public internal(set) var events: [RecentEvent] = []
    /// Where the next event goes once the ring is full.
    public internal(set) var next = 0

    public init(capacity: Int) { self.capacity = max(0, capacity) }

    public var isEmpty: Bool { events.isEmpty }

    @inline(__always)
    mutating func append(_ event: RecentEvent) {
        guard capacity > 0 else { return }
        if events.count < capacity {
            events.append(event)
        } else {
            events[next] = event
            next = next + 1 == capacity ? 0 : next + 1
        }
    }
}
