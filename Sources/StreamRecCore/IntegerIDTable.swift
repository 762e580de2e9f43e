import CKernels

/// Integer external ID → row: the lookup the learner makes twice per event.
///
/// Open addressing with linear probing over one flat array of (ID, row)
/// slots, 16 bytes each, so a lookup is a hash and usually one cache line.
/// `[UInt64: Int32]` cost twice that: SipHash, and keys and values in
/// separate arrays (two cache lines). The hash is SplitMix64's finalizer over
/// the ID mixed with a random per-table seed, so producers who choose IDs
/// cannot aim them at one run of slots (which Swift's seeded SipHash also
/// prevents, and a plain multiplicative hash would not).
struct IntegerIDTable: Sendable {
    private struct Slot: Sendable {
        var id: UInt64
        /// -1 marks an empty slot (every UInt64 is a valid ID).
        var row: Int32
    }

    private var slots = [Slot](repeating: Slot(id: 0, row: -1), count: 16)
    private var count = 0
    private let seed = UInt64.random(in: .min ... .max)

    @inline(__always)
    private func home(_ id: UInt64, mask: Int) -> Int {
        var key = id ^ seed
        key = (key ^ (key >> 30)) &* 0xBF58_476D_1CE4_E5B9
        key = (key ^ (key >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int(truncatingIfNeeded: key ^ (key >> 31)) & mask
    }

    /// Where `id` is held, or the empty slot its probe ends at.
    @inline(__always)
    private func probe(_ id: UInt64) -> (index: Int, row: Int32?) {
        slots.withUnsafeBufferPointer { slots in
            let mask = slots.count - 1
            var i = home(id, mask: mask)
            while slots[i].row != -1 {
                if slots[i].id == id { return (i, slots[i].row) }
                i = (i + 1) & mask
            }
            return (i, nil)
        }
    }

    subscript(id: UInt64) -> Int32? { probe(id).row }

    /// Starts fetching the slot where a probe for `id` begins.
    @inline(__always)
    func prefetch(_ id: UInt64) {
        slots.withUnsafeBufferPointer { sr_prefetch($0.baseAddress! + home(id, mask: $0.count - 1)) }
    }

    /// Adds `id` → `row`; `id` must not be held yet.
    mutating func insert(_ id: UInt64, row: Int32) {
        if (count + 1) * 4 > slots.count * 3 { grow() }
        slots[probe(id).index] = Slot(id: id, row: row)
        count += 1
    }

    /// Doubles the table and re-inserts every ID.
    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(id: 0, row: -1), count: old.count * 2)
        count = 0
        for slot in old where slot.row != -1 { insert(slot.id, row: slot.row) }
    }
}
