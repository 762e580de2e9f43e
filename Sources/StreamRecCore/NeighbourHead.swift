/// The item-neighbour head: per user the items they liked (whose first
/// rating was at or above the positive threshold; re-ratings do not change
/// it), and per item the items most often liked by the same users.
///
/// A value of its own, apart from the embeddings, because nothing else the
/// model learns reads it: only `top` does. Its share of an event is a
/// `NeighbourRating`, known once the pair is counted, so `Evaluator` and
/// log recovery can hand those to a second thread (`NeighbourPipeline`) and
/// end with the same head as counting them in line would.
public struct NeighbourHead: Sendable, Equatable {
    public internal(set) var liked = LikedHistory()
    public internal(set) var neighbours: NeighbourTable
    /// How many of a user's latest likes a new like is counted with.
    let history: Int

    init(settings: ModelSettings) {
        neighbours = NeighbourTable(limit: settings.neighbourSlots, exponent: settings.neighbourExponent)
        history = settings.neighbourHistory
    }

    /// Learns from the first rating of a pair: the item's new popularity and,
    /// for a like, its co-likes with the user's recent likes (both ways),
    /// then the like itself. A row the head has not seen yet is added first
    /// (rows are numbered in the order they arrive).
    mutating func count(_ rating: NeighbourRating) {
        let u = rating.user, i = rating.item
        while Int(u) >= liked.users { liked.appendUser() }
        while Int(i) >= neighbours.rows.count { neighbours.appendRow() }
        neighbours.setPopularity(rating.popularity, of: i)
        guard rating.isLike else { return }
        neighbours.countCoLikes(of: i, with: liked.recent(u, limit: history), most: history)
        liked.append(user: u, item: i)
    }

    /// Starts fetching what counting a rating by row `user` of row `item` reads first.
    @inline(__always)
    func prefetch(user: Int32, item: Int32) {
        guard Int(user) < liked.users, Int(item) < neighbours.rows.count else { return }
        liked.prefetchNewest(user)
        neighbours.prefetchRow(item)
    }
}

/// What the first rating of a (user, item) pair tells the neighbour head.
public struct NeighbourRating: Sendable, Equatable {
    public var user: Int32
    public var item: Int32
    /// Distinct users who have rated the item, this one included.
    public var popularity: UInt32
    /// The rating was at or above the positive threshold.
    public var isLike: Bool
}
