import StreamRecCore

/// A seeded stream of integer-ID ratings for the bench: users and items
/// uniform over fixed ranges, ratings 1–10. Drawn on the fly, so 10 M
/// events cost no memory.
struct SyntheticEvents: Sequence, IteratorProtocol {
    let users: UInt64
    let items: UInt64
    private(set) var remaining: Int
    private var rng: SplitMix64

    init(count: Int, users: UInt64, items: UInt64, seed: UInt64 = 7) {
        self.users = users
        self.items = items
        remaining = count
        rng = SplitMix64(seed: seed)
    }

    mutating func next() -> RatingEvent? {
        guard remaining > 0 else { return nil }
        remaining -= 1
        let r = rng.next()
        return RatingEvent(user: .number(r % users), item: .number((r >> 20) % items), rating: Float((r >> 58) % 10 + 1))
    }
}
