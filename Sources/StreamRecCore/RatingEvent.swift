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
}
