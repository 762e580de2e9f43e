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
    /// before it learns (see `prefetch(user:item:)`); `prior` gets each
    /// event's index and the prediction made for it just before.
    public mutating func observe<Events: RandomAccessCollection<RatingEvent>>(
        _ events: Events, prior: (Events.Index, Float) -> Void = { _, _ in }
    ) {
        var n = events.startIndex
        while n != events.endIndex {
            let next = events.index(after: n)
            if next != events.endIndex { prefetch(user: events[next].user, item: events[next].item) }
            prior(n, observe(events[n]))
            n = next
        }
    }
}
