import CKernels

/// A set of (user row, item row) pairs packed as `user << 32 | item`: the
/// "has this user rated this item" test the learner makes on every event and
/// every negative draw.
///
/// Open addressing with linear probing and a multiplicative hash over one flat
/// `[UInt64]`: a lookup is a multiply, a shift and usually one cache line,
/// where `Set<UInt64>` pays for SipHash and its generic machinery. Rows are
/// below 2^31, so `UInt64.max` can never be a pair and marks empty slots.
public struct PairSet: Sendable, Equatable {
    private static let empty = UInt64.max
    private var slots = [UInt64](repeating: PairSet.empty, count: 16)
    private var shift = 60
    public private(set) var count = 0

    public init() {}

    /// The key of the pair (user row `user`, item row `item`): `user << 32 | item`.
    @inline(__always)
    public static func key(user: Int32, item: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: user)) << 32 | UInt64(UInt32(bitPattern: item))
    }

    /// The slot a key's probe starts at: the top bits of a Fibonacci hash.
    @inline(__always)
    private static func home(_ key: UInt64, _ shift: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt64(shift))
    }

    /// Starts fetching the slot where a probe for `key` begins.
    @inline(__always)
    func prefetch(_ key: UInt64) {
        slots.withUnsafeBufferPointer { sr_prefetch($0.baseAddress! + Self.home(key, shift)) }
    }

    public func contains(_ key: UInt64) -> Bool {
        slots.withUnsafeBufferPointer { slots in
            let mask = slots.count - 1
            var i = Self.home(key, shift)
            while true {
                let slot = slots[i]
                if slot == key { return true }
                if slot == Self.empty { return false }
                i = (i + 1) & mask
            }
        }
    }

    /// Adds `key`; `inserted` is false when it was already there.
    @discardableResult
    public mutating func insert(_ key: UInt64) -> (inserted: Bool, count: Int) {
        precondition(key != Self.empty, "not a pair of rows")
        if (count + 1) * 4 > slots.count * 3 { grow() }
        let shift = self.shift
        let inserted = slots.withUnsafeMutableBufferPointer { slots -> Bool in
            let mask = slots.count - 1
            var i = Self.home(key, shift)
            while true {
                let slot = slots[i]
                if slot == key { return false }
                if slot == Self.empty {
                    slots[i] = key
                    return true
                }
                i = (i + 1) & mask
            }
        }
        if inserted { count += 1 }
        return (inserted, count)
    }

    /// Makes room for `count` pairs in all, so that inserting up to that
    /// many never rehashes.
    public mutating func reserveCapacity(_ count: Int) {
        var size = slots.count, shift = self.shift
        while count * 4 > size * 3 { size *= 2; shift -= 1 }
        if size > slots.count { rehash(into: size, shift: shift) }
    }

    /// Every pair, in table order (which depends on the order of inserts and
    /// on any `reserveCapacity`; snapshots sort the pairs).
    public var elements: LazyFilterSequence<[UInt64]> { slots.lazy.filter { $0 != Self.empty } }

    /// Doubles the table and re-inserts every pair.
    private mutating func grow() { rehash(into: slots.count * 2, shift: shift - 1) }

    /// Re-inserts every pair into a table of `size` slots (a power of two,
    /// 2^(64 − shift)).
    private mutating func rehash(into size: Int, shift: Int) {
        let old = slots
        slots = [UInt64](repeating: Self.empty, count: size)
        self.shift = shift
        count = 0
        for key in old where key != Self.empty { insert(key) }
    }

    public static func == (a: PairSet, b: PairSet) -> Bool {
        a.count == b.count && a.slots.allSatisfy { $0 == empty || b.contains($0) }
    }
}
