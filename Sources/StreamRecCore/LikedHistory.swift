/// Per user, the items they liked, newest first: what the item-neighbour head
/// learns from and recommends from.
///
/// One flat list of (item, previous entry) links for all users, plus each
/// user's newest entry, so a user costs 4 bytes and a like 8 bytes, with none
/// of the per-array overhead a `[[Int32]]` pays per user (about 50 bytes,
/// which at a million users was most of the RSS over budget). Walking is
/// newest first, which is the order the head wants: it reads only the most
/// recent likes.
public struct LikedHistory: Sendable, Equatable {
    /// One like: the item row and the index of the same user's previous
    /// like (-1 for their first).
    public struct Entry: Sendable, Equatable, BitwiseCopyable {
        public var item: Int32
        public var previous: Int32
    }

    public internal(set) var entries: [Entry] = []
    /// Per user row, the index of their newest entry (-1: none yet).
    public internal(set) var newest: [Int32] = []

    public init() {}

    mutating func appendUser() { newest.append(-1) }

    /// Records a like; past 2^31 − 1 likes (the i32 links) further likes are
    /// not recorded, and the head keeps learning from the ones it has.
    mutating func append(user: Int32, item: Int32) {
        guard entries.count < Int(Int32.max) else { return }
        entries.append(Entry(item: item, previous: newest[Int(user)]))
        newest[Int(user)] = Int32(entries.count - 1)
    }

    /// The user's liked item rows, newest first, at most `limit` of them.
    /// A lazy walk, no allocation: the learner takes one per like.
    public func recent(_ user: Int32, limit: Int) -> RecentLikes {
        RecentLikes(entries: entries, cursor: newest[Int(user)], left: limit)
    }
}

/// A walk over one user's likes, newest first (see `LikedHistory.recent`).
public struct RecentLikes: Sequence, IteratorProtocol {
    let entries: [LikedHistory.Entry]
    var cursor: Int32
    var left: Int

    public mutating func next() -> Int32? {
        guard cursor >= 0, left > 0 else { return nil }
        let entry = entries[Int(cursor)]
        cursor = entry.previous
        left -= 1
        return entry.item
    }
}
