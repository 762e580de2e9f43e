import XCTest
@testable import StreamRecCore

/// The integer-ID table against the standard library's dictionary.
final class IntegerIDTableTests: XCTestCase {
    /// Seeded random inserts and lookups (through growth, with the extreme IDs 0 and UInt64.max, and clustered IDs) agree with `[UInt64: Int32]`.
    func testAgreesWithDictionary() {
        var rng = SplitMix64(seed: 21)
        var table = IntegerIDTable(), reference = [UInt64: Int32]()
        for id in [0, UInt64.max] {
            table.insert(id, row: Int32(reference.count))
            reference[id] = Int32(reference.count)
        }
        for _ in 0..<50_000 {
            let id = rng.next() % 2 == 0 ? rng.next() % 40_000 : rng.next()
            if reference[id] == nil {
                table.insert(id, row: Int32(reference.count))
                reference[id] = Int32(reference.count)
            }
            let probe = rng.next() % 2 == 0 ? rng.next() % 40_000 : rng.next()
            XCTAssertEqual(table[probe], reference[probe])
        }
        for (id, row) in reference { XCTAssertEqual(table[id], row, "ID \(id)") }
    }
}
