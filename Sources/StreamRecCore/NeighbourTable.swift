import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// Per item, the items most often liked by the same users: the model's
/// item-neighbour head, a bounded co-occurrence count.
///
/// Each item keeps up to `limit` (neighbour row, count) pairs in a small
/// open-addressing table of its own, grown by doubling (never past what
/// `limit` neighbours need), so an item costs memory in proportion to the
/// most neighbours it has held, never to the catalogue. Past the limit,
/// counting follows Misra–Gries: a neighbour not yet held makes every count
/// lose one (and frees those that reach 0) instead of taking a place; that
/// pass costs O(limit) but happens at most once per limit + 1 co-likes, so
/// counting stays O(1) amortized. Misra–Gries alone never overstates and
/// understates by at most n/(limit + 1) after n co-likes; the doorkeeper
/// (below) adds its own error: a pair's first co-like is not counted, or
/// is lost when the filter clears, and a false positive (≤ ~6 %) lets a
/// pair in at 2 after one co-like.
///
/// Rejected: a dense item × item matrix (the square of the catalogue);
/// Space-Saving, where a newcomer takes the smallest place at its count + 1
/// and so is overstated, which on anime made the head recommend whatever was
/// co-liked last (prequential HR@10 0.011); fixed slot arrays searched
/// linearly (a limit large enough to rank well, 512 and up, made every count
/// a long scan: 17 k events/s); an item2vec-style embedding trained on
/// co-liked pairs (not built: the BPR head, which learns the same way, stayed
/// at popularity level). On anime, limits of 64, 512 and 4,096 gave HR@10
/// 0.035, 0.081 and 0.084 (20 latest likes, before the doorkeeper); the
/// default 1,024 is in docs/EVALUATION.md.
public struct NeighbourTable: Sendable, Equatable {
    /// Most neighbours counted per item; 0 turns the head off.
    public let limit: Int
    /// Popularity damping: counts of a neighbour are divided by its
    /// (popularity + 1)^exponent.
    public let exponent: Float
    public internal(set) var rows: [NeighbourCounts] = []
    public internal(set) var doorkeeper = Doorkeeper()
    /// Per item, 1 / (popularity + 1)^exponent, kept up to date as
    /// popularity grows so that `top` multiplies instead of calling `powf`
    /// for each of the thousands of neighbour counts it adds up.
    public internal(set) var damping: [Float] = []

    public init(limit: Int, exponent: Float) {
        self.limit = limit
        self.exponent = exponent
    }

    /// Adds an item row with no neighbours and no one who rated it.
    mutating func appendRow() {
        rows.append(NeighbourCounts())
        damping.append(1)
        doorkeeper.fit(items: rows.count)
    }

    /// Records that `item` is now rated by `popularity` distinct users.
    @inline(__always)
    mutating func setPopularity(_ popularity: UInt32, of item: Int32) {
        damping[Int(item)] = powf(Float(popularity) + 1, -exponent)
    }

    /// Counts `item` as co-liked with each of `others` (at most `most` of them).
    ///
    /// Two passes: walk the others and start fetching every table the counts
    /// will touch, then count. The tables of a big catalogue do not fit in
    /// cache, and one miss after another cost more than the rest of learning
    /// together.
    ///
    /// The first pass fetches `other`'s slot for `item` and the doorkeeper's
    /// word for the pair (`item`'s own slots too measured no faster: it is
    /// the same table for every pair of a like). It holds each array's
    /// buffer once, outside the loop: a retain inside it (what a copy of a
    /// row or `withUnsafeBufferPointer` per call costs) is a locked
    /// instruction, which on x86 waits for every load in flight, and so
    /// undid the overlap the prefetches are for.
    mutating func countCoLikes(of item: Int32, with others: RecentLikes, most: Int) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: most) { fetched in
            var n = 0
            rows.withUnsafeBufferPointer { rows in
                doorkeeper.words.withUnsafeBufferPointer { words in
                    for other in others {
                        NeighbourCounts.prefetch(rows.baseAddress! + Int(other), item)
                        NeighbourCounts.prefetch(rows.baseAddress! + Int(item), other)
                        sr_prefetch(words.baseAddress! + Doorkeeper.bit(other, item, words: words.count) >> 6)
                        fetched[n] = other
                        n += 1
                    }
                }
            }
            for other in fetched[..<n] { countPair(other, item) }
        }
    }

    /// Starts fetching the header of `item`'s table, which a like of it reads
    /// once per recent like.
    @inline(__always)
    func prefetchRow(_ item: Int32) {
        rows.withUnsafeBufferPointer { NeighbourCounts.prefetch($0.baseAddress! + Int(item), nil) }
    }

    /// Counts one more co-like of items `a` and `b`, on both rows.
    ///
    /// A pair enters the table only on its second co-like (the doorkeeper
    /// remembers first ones), then with both counted. Most pairs are only
    /// ever co-liked once, and they carry no ranking signal: on a uniform
    /// random stream (the memory bench) nearly all of them, so without the
    /// doorkeeper the head cost 150 MiB there for nothing.
    mutating func countPair(_ a: Int32, _ b: Int32) {
        if rows[Int(a)].bump(b) {
            rows[Int(b)].add(a, by: 1, limit: limit)
        } else if doorkeeper.sawBefore(a, b) {
            rows[Int(a)].add(b, by: 2, limit: limit)
            rows[Int(b)].add(a, by: 2, limit: limit)
        }
    }
}

/// A one-hash Bloom filter of item pairs co-liked once: "seen before?" with
/// no false negatives and at most ~6 % false positives (it is cleared once
/// a sixteenth of its bits have been set), in 256 bits per item.
public struct Doorkeeper: Sendable, Equatable {
    public internal(set) var words: [UInt64] = []
    /// Pairs recorded since the last clear.
    public internal(set) var recorded = 0

    /// Grows (and clears) the filter to the next power of two ≥ 256 bits per
    /// item (8,192 at least), so its false-positive rate does not rise with
    /// the catalogue. Measured on anime (HR@10) and the memory bench (RSS):
    /// 1,024 bits cleared at 1/8: 0.0867 (with 20 latest likes); 512 at 1/8:
    /// 0.0845, 598.5 MiB; 512 at 1/16: 0.0855, 598.4 MiB; 256 at 1/16:
    /// 0.0841, 550.5 MiB.
    mutating func fit(items: Int) {
        let bits = max(1 << 13, items * 256)
        guard words.count * 64 < bits else { return }
        words = [UInt64](repeating: 0, count: (1 << (Int.bitWidth - (bits - 1).leadingZeroBitCount)) / 64)
        recorded = 0
    }

    /// The bit of the pair {a, b}, through SplitMix64's finalizer: a
    /// multiplicative hash alone maps pairs like (n, n + 1) onto few bits
    /// (21 % false positives in the test).
    @inline(__always)
    static func bit(_ a: Int32, _ b: Int32, words: Int) -> Int {
        var key = UInt64(UInt32(min(a, b))) << 32 | UInt64(UInt32(max(a, b)))
        key = (key ^ (key >> 30)) &* 0xBF58_476D_1CE4_E5B9
        key = (key ^ (key >> 27)) &* 0x94D0_49BB_1331_11EB
        key ^= key >> 31
        return Int(truncatingIfNeeded: key & UInt64(words * 64 - 1))
    }

    /// True when the pair {a, b} was recorded before; records it otherwise.
    mutating func sawBefore(_ a: Int32, _ b: Int32) -> Bool {
        let bit = Self.bit(a, b, words: words.count)
        let mask: UInt64 = 1 << UInt64(bit & 63)
        if words[bit >> 6] & mask != 0 { return true }
        if recorded >= words.count * 4 {  // a sixteenth of the bits
            for w in words.indices { words[w] = 0 }
            recorded = 0
        }
        words[bit >> 6] |= mask
        recorded += 1
        return false
    }
}

/// One item's neighbour counts: open addressing with linear probing over
/// a power-of-two table of (neighbour row, count) slots, key and count side
/// by side so a count costs one cache line (-1 marks an empty slot).
public struct NeighbourCounts: Sendable {
    struct Slot: Sendable {
        var key: Int32
        var count: UInt32
        static let empty = Slot(key: -1, count: 0)
    }

    private(set) var slots: [Slot] = []
    /// Neighbours held (an Int32, so the struct stays 16 bytes with `capacityLog2`).
    private var held: Int32 = 0
    public var count: Int { Int(held) }
    /// log2 of the slot count, 0 while there are none. Kept here, beside the
    /// reference to the slots, so `prefetch` can find a key's slot without
    /// first waiting for the slots' array header to come from memory: that
    /// wait, one per co-like, was the learner's largest single cost.
    private var capacityLog2: Int32 = 0

    public init() {}

    /// The slot a key's probe starts at: the top bits of a Fibonacci hash.
    @inline(__always)
    private static func home(_ key: Int32, _ log2: Int32) -> Int {
        Int((UInt32(bitPattern: key) &* 0x9E37_79B1) >> UInt32(32 - log2))
    }

    /// Starts fetching the slots' array header, which every access reads
    /// first, and the slot where a probe for `key` begins.
    ///
    /// It reads the table through a pointer, never as a value: a copy of
    /// the struct retains its slots, and that retain is a write to the very
    /// header line being fetched, so it waited for memory (~10 % of all
    /// learning time).
    @inline(__always)
    static func prefetch(_ row: UnsafePointer<NeighbourCounts>, _ key: Int32?) {
        let log2 = row.pointer(to: \.capacityLog2)!.pointee
        guard log2 > 0 else { return }
        let start = slotsStart(row)
        sr_prefetch(start - 16)
        if let key { sr_prefetch(start + home(key, log2) * MemoryLayout<Slot>.stride) }
    }

    /// Where `row`'s slots start, from the reference alone (no retain). It
    /// assumes the native array layout: elements 32 bytes after the start of
    /// the storage object, the count 16 bytes before them. Only prefetches
    /// use it, and a prefetch cannot fault, so were that ever wrong only the
    /// speed would suffer (`NeighbourTests` checks it).
    @inline(__always)
    static func slotsStart(_ row: UnsafePointer<NeighbourCounts>) -> UnsafeRawPointer {
        UnsafeRawPointer(row.pointer(to: \.slots)!).load(as: UnsafeRawPointer.self) + 32
    }

    /// Where `key` is held, or the empty slot its probe ends at (`held`
    /// false): the one probe loop every lookup uses. The table is not empty.
    @inline(__always)
    private func probe(_ key: Int32) -> (index: Int, held: Bool) {
        slots.withUnsafeBufferPointer { slots in
            let mask = slots.count - 1
            var i = Self.home(key, capacityLog2)
            while slots[i].key != -1 {
                if slots[i].key == key { return (i, true) }
                i = (i + 1) & mask
            }
            return (i, false)
        }
    }

    /// Adds one to `key`'s count if it is held; false (and nothing changes) if not.
    mutating func bump(_ key: Int32) -> Bool {
        guard !slots.isEmpty else { return false }
        let (i, held) = probe(key)
        if held { slots[i].count.saturatingAdd(1) }
        return held
    }

    /// `by` more co-likes with `key`, holding at most `limit` neighbours.
    mutating func add(_ key: Int32, by n: UInt32, limit: Int) {
        if !slots.isEmpty {
            let (i, held) = probe(key)
            if held { return slots[i].count.saturatingAdd(n) }
        }
        guard count < limit else { return forgetOne() }
        place(key, n)
    }

    /// The Misra–Gries step: every count loses one; the table is rebuilt
    /// without the neighbours that reach 0.
    private mutating func forgetOne() {
        for i in slots.indices where slots[i].key != -1 { slots[i].count -= 1 }
        resize(to: slots.count)
    }

    /// Re-inserts every neighbour with a positive count into `capacity` slots.
    private mutating func resize(to capacity: Int) {
        let old = slots
        slots = [Slot](repeating: .empty, count: capacity)
        capacityLog2 = Int32(capacity.trailingZeroBitCount)
        held = 0
        for slot in old where slot.key != -1 && slot.count > 0 { place(slot.key, slot.count) }
    }

    /// Puts a key known to be absent, with its count, into a slot (growing
    /// the table past 3/4 full).
    mutating func place(_ key: Int32, _ c: UInt32) {
        if slots.isEmpty || (count + 1) * 4 > slots.count * 3 { resize(to: max(8, slots.count * 2)) }
        slots[probe(key).index] = Slot(key: key, count: c)
        held += 1
    }

    /// Adds scale · count · damping[key] to combined[key] for each
    /// neighbour held, in slot order: what `top` folds into its biases.
    ///
    /// With no branch per slot: an empty slot (count 0) adds 0 to one of
    /// eight spare floats at `combined + spare` instead. The table is about
    /// half empty, so testing each slot mispredicted about every other time,
    /// which made this fold cost half as much as the whole scan it feeds
    /// (perf, top-10 over 10 k items). Eight spares, taken in turn, keep
    /// those additions from waiting on one another.
    @inline(__always)
    func addWeighted(scale: Float, damping: UnsafePointer<Float>, into combined: UnsafeMutablePointer<Float>, spare: Int) {
        slots.withUnsafeBufferPointer { slots in
            for (s, slot) in slots.enumerated() {
                // Masks, not `?:`, which the compiler turned back into a branch.
                let key = Int(slot.key), empty = key >> 63  // all ones for the empty key -1
                let held = key & ~empty
                combined[held | (spare + (s & 7)) & empty] += scale * Float(slot.count) * damping[held]
            }
        }
    }

    /// Calls `body` with each neighbour and its count, in slot order.
    @inline(__always)
    public func forEach(_ body: (Int32, UInt32) -> Void) {
        slots.withUnsafeBufferPointer { slots in
            for slot in slots where slot.key != -1 { body(slot.key, slot.count) }
        }
    }

    /// The count held for `key` (0 when not held).
    public func count(of key: Int32) -> UInt32 {
        guard !slots.isEmpty else { return 0 }
        let (i, held) = probe(key)
        return held ? slots[i].count : 0
    }
}

extension NeighbourCounts: Equatable {
    /// The same neighbours with the same counts, whatever the slot layout
    /// (a table rebuilt from a snapshot places keys in another order).
    public static func == (a: NeighbourCounts, b: NeighbourCounts) -> Bool {
        guard a.count == b.count else { return false }
        var same = true
        a.forEach { key, c in if b.count(of: key) != c { same = false } }
        return same
    }
}

extension UInt32 {
    /// Adds `n`, stopping at `.max`: a count restored from a crafted snapshot
    /// may start anywhere, and must not trap the learner.
    @inline(__always)
    mutating func saturatingAdd(_ n: UInt32) {
        let (sum, overflow) = addingReportingOverflow(n)
        self = overflow ? .max : sum
    }
}
