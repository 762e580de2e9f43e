import XCTest
@testable import StreamRecCore

/// The learner's rated-pairs set against the standard library's.
final class PairSetTests: XCTestCase {
    /// Seeded random inserts and lookups (with growth and clustered keys) agree with `Set<UInt64>` on every answer.
    func testAgreesWithSet() {
        var rng = SplitMix64(seed: 9)
        var pairs = PairSet(), reference = Set<UInt64>()
        for _ in 0..<50_000 {
            let key = (rng.next() % 300) << 32 | rng.next() % 500
            XCTAssertEqual(pairs.insert(key).inserted, reference.insert(key).inserted)
            let probe = (rng.next() % 300) << 32 | rng.next() % 500
            XCTAssertEqual(pairs.contains(probe), reference.contains(probe))
        }
        XCTAssertEqual(pairs.count, reference.count)
        var copy = PairSet()
        for key in reference.shuffled(using: &rng) { copy.insert(key) }
        XCTAssertEqual(copy, pairs, "equality ignores insertion order")
        copy.insert(UInt64(1) << 40)
        XCTAssertNotEqual(copy, pairs)
    }
}
