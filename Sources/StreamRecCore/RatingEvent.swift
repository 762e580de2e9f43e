/// One rating: `user` gave `item` the score `rating`, at `timestamp` (Unix
/// seconds) when the producer said when.
public struct RatingEvent: Sendable, Equatable {
    public var user: ExternalID
    public var item: ExternalID
    public var rating: Float
    public var timestamp: Int64?

    public init(user: ExternalID, item: ExternalID, rating: Float, timestamp: Int64? = nil) {
        self.user = user
        self.item = item
        self.rating = rating
        self.timestamp = timestamp
    }
}

extension Model {
    /// Applies `event`; see `observe(user:item:rating:)`.
    @discardableResult
    public mutating func observe(_ event: RatingEvent) -> Float {
        observe(user: event.user, item: event.item, rating: event.rating)
    }

    /// Applies `events` in order, each one's rows fetched while the one
    /// before it learns, and its IDs' slots while the one before that does
    /// (see `prefetch(user:item:)` and `prefetchIDs(user:item:)`).
    public mutating func observe(_ events: ArraySlice<RatingEvent>) {
        for n in events.indices {
            if n + 2 < events.endIndex { prefetchIDs(user: events[n + 2].user, item: events[n + 2].item) }
            if n + 1 < events.endIndex { prefetch(user: events[n + 1].user, item: events[n + 1].item) }
            observe(events[n])
        }
    }
}
