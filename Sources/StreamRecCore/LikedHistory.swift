import CKernels

/// Per user, the items they liked, newest first: what the item-neighbour head
/// learns from and recommends from.
///
/// One flat array of 32-byte blocks for all users: a block holds the index
/// of the same user's previous block and up to seven of their likes, oldest
/// first (-1 marks an unused place). Each user keeps the index of their
/// newest block. A walk over the ten latest likes, which the learner takes
/// for every like, reads two or three blocks one after another.
///
/// Rejected: a linked list with one (item, previous) link per like. It cost
/// the same memory, but a walk of ten likes was ten cache misses one after
/// another, a fifth of all learning time on anime. Also rejected: a ring of
/// the latest `neighbourHistory` likes per user, which reserves that many
/// places for every user whether they like anything or not (4 GB for a
/// million users at a history of 1,000); and a `[[Int32]]` per user, whose
/// ~50 bytes of array overhead per user were most of the RSS over budget at
/// a million users.
public struct LikedHistory: Sendable {
    /// Int32s per block: the previous block's index, then the likes.
    static let blockWidth = 8
    static let likesPerBlock = blockWidth - 1

    /// The blocks, `blockWidth` Int32s each.
    private(set) var blocks: [Int32] = []
    /// Per user row, the index of their newest block (-1: no likes yet).
    private(set) var newest: [Int32] = []
    /// Likes recorded, all users together.
    public private(set) var count = 0

    public init() {}

    /// Users with a history (liked anything or not).
    public var users: Int { newest.count }

    mutating func appendUser() { newest.append(-1) }

    /// Records a like; past 2^31 − 1 likes further likes are not recorded,
    /// and the head keeps learning from the ones it has.
    mutating func append(user: Int32, item: Int32) {
        guard count < Int(Int32.max) else { return }
        count += 1
        let head = Int(newest[Int(user)])
        if head >= 0 {
            let base = head * Self.blockWidth
            let last = base + Self.blockWidth - 1
            if blocks[last] == -1 {
                var place = base + 1
                while blocks[place] != -1 { place += 1 }
                blocks[place] = item
                return
            }
        }
        blocks.append(Int32(head))
        blocks.append(item)
        blocks.append(contentsOf: repeatElement(-1, count: Self.likesPerBlock - 1))
        newest[Int(user)] = Int32(blocks.count / Self.blockWidth - 1)
    }

    /// Starts fetching the user's newest block.
    @inline(__always)
    func prefetchNewest(_ user: Int32) {
        let head = Int(newest[Int(user)])
        guard head >= 0 else { return }
        blocks.withUnsafeBufferPointer { sr_prefetch($0.baseAddress! + head * Self.blockWidth) }
    }

    /// The user's liked item rows, newest first, at most `limit` of them.
    /// A lazy walk, no allocation: the learner takes one per like.
    public func recent(_ user: Int32, limit: Int = .max) -> RecentLikes {
        RecentLikes(blocks: blocks, block: newest[Int(user)], limit: limit)
    }
}

/// A walk over one user's likes, newest first (see `LikedHistory.recent`).
public struct RecentLikes: Sequence, IteratorProtocol {
    let blocks: [Int32]
    /// The block being read, and the place in it read next (0: move to the previous block).
    var block: Int32
    var place: Int
    var left: Int

    init(blocks: [Int32], block: Int32, limit: Int) {
        self.blocks = blocks
        self.block = block
        self.left = limit
        place = LikedHistory.blockWidth - 1
    }

    public mutating func next() -> Int32? {
        guard left > 0 else { return nil }
        while block >= 0 {
            let base = Int(block) * LikedHistory.blockWidth
            while place > 0 {
                let item = blocks[base + place]
                place -= 1
                if item != -1 {
                    left -= 1
                    return item
                }
            }
            block = blocks[base]
            place = LikedHistory.blockWidth - 1
        }
        return nil
    }
}

extension LikedHistory: Equatable {
    /// The same users with the same likes in the same order, whatever the
    /// block layout (a history rebuilt from a snapshot is laid out user by
    /// user, a live one in the order likes arrived).
    public static func == (a: LikedHistory, b: LikedHistory) -> Bool {
        guard a.count == b.count, a.users == b.users else { return false }
        return (0..<Int32(a.users)).allSatisfy { a.recent($0).elementsEqual(b.recent($0)) }
    }
}
