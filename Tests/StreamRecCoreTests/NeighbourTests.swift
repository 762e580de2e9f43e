import XCTest
@testable import StreamRecCore

/// The item-neighbour head: bounded co-like counts, the doorkeeper, and `top` recommending co-liked items.
final class NeighbourTests: XCTestCase {
    /// Under the limit every co-like is counted exactly; over it counts never overstate and a frequent neighbour keeps its place.
    func testCountsAreExactUnderTheLimitAndNeverOverstated() {
        var counts = NeighbourCounts()
        var truth = [Int32: UInt32]()
        var rng = SplitMix64(seed: 3)
        for _ in 0..<500 {
            let key = Int32(rng.next() % 20)
            counts.add(key, by: 1, limit: 64)
            truth[key, default: 0] += 1
        }
        for (key, c) in truth { XCTAssertEqual(counts.count(of: key), c, "key \(key) under the limit") }

        var bounded = NeighbourCounts()
        var exact = [Int32: UInt32]()
        for n in 0..<20_000 {
            let key: Int32 = n % 3 == 0 ? 7 : Int32(100 + rng.next() % 5_000)  // one frequent neighbour among many rare ones
            bounded.add(key, by: 1, limit: 16)
            exact[key, default: 0] += 1
        }
        XCTAssertLessThanOrEqual(bounded.count, 16)
        bounded.forEach { key, c in XCTAssertLessThanOrEqual(c, exact[key]!, "key \(key) is never overstated") }
        XCTAssertGreaterThanOrEqual(bounded.count(of: 7), exact[7]! - 20_000 / 17, "within n/(limit + 1) of the truth")
    }

    /// The prefetch finds a table's slots where the array really keeps them, so it fetches the right lines.
    func testPrefetchComputesTheSlotsAddress() {
        var counts = NeighbourCounts()
        for key: Int32 in 0..<100 { counts.add(key, by: 1, limit: 1_000) }
        let real = counts.slots.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress!) }
        XCTAssertEqual(withUnsafePointer(to: counts) { NeighbourCounts.slotsStart($0) }, real)
    }

    /// A pair enters on its second co-like with both counted, on both rows; re-ratings and ratings below the threshold do not count.
    func testModelCountsRepeatedLikesBothWays() throws {
        var model = Model(settings: ModelSettings())
        for user: UInt64 in [1, 2] {
            model.observe(user: .number(user), item: .number(10), rating: 9)
            model.observe(user: .number(user), item: .number(20), rating: 9)
            model.observe(user: .number(user), item: .number(20), rating: 10)  // a re-rating
            model.observe(user: .number(user), item: .number(30), rating: 2)   // not a like
            if user == 1 { XCTAssertEqual(model.neighbourHead.neighbours.rows.map(\.count), [0, 0, 0], "one co-like is only remembered") }
        }
        let (a, b, c) = try (XCTUnwrap(model.items.index(of: .number(10))), XCTUnwrap(model.items.index(of: .number(20))),
                             XCTUnwrap(model.items.index(of: .number(30))))
        XCTAssertEqual(model.neighbourHead.neighbours.rows[Int(a)].count(of: b), 2)
        XCTAssertEqual(model.neighbourHead.neighbours.rows[Int(b)].count(of: a), 2)
        XCTAssertEqual(model.neighbourHead.neighbours.rows[Int(c)].count, 0)
        model.observe(user: .number(3), item: .number(20), rating: 8)
        model.observe(user: .number(3), item: .number(10), rating: 8)
        XCTAssertEqual(model.neighbourHead.neighbours.rows[Int(a)].count(of: b), 3, "held pairs count every co-like")
    }

    /// The doorkeeper never forgets a pair before it clears, rarely claims an unseen one, and clears after a sixteenth of its bits were set.
    func testDoorkeeperRemembersUntilItClears() {
        var doorkeeper = Doorkeeper()
        doorkeeper.fit(items: 10)
        let capacity = doorkeeper.words.count * 4
        var falsePositives = 0
        for n in 0..<Int32(capacity) {
            if doorkeeper.sawBefore(n, n + 1) { falsePositives += 1 }
        }
        for n in Int32(capacity - 100)..<Int32(capacity) { XCTAssertTrue(doorkeeper.sawBefore(n + 1, n), "pair \(n) is unordered and remembered") }
        XCTAssertLessThan(Double(falsePositives) / Double(capacity), 0.065, "false positives stay below ~6 %")
        var fresh: Int32 = 1_000_000
        while doorkeeper.recorded > 1, fresh < 2_000_000 { _ = doorkeeper.sawBefore(fresh, fresh + 1); fresh += 2 }
        XCTAssertEqual(doorkeeper.recorded, 1, "recording past a sixteenth of the bits clears the filter first")
        XCTAssertFalse(doorkeeper.sawBefore(0, 1), "pairs from before the clear are forgotten")
    }

    /// Items co-liked with a user's likes top their list, for stored and anonymous users; with the head off they do not.
    func testTopRecommendsCoLikedItems() {
        func model(slots: Int) -> Model {
            var settings = ModelSettings()
            settings.neighbourSlots = slots
            var model = Model(settings: settings)
            var rng = SplitMix64(seed: 9)
            // 200 items; 300 users each like one planted pair (p, p + 100), plus four random others, rated low.
            for u in 0..<300 {
                let p = UInt64(u % 10)
                for _ in 0..<4 { model.observe(user: .number(UInt64(u)), item: .number(20 + rng.next() % 80), rating: 3) }
                model.observe(user: .number(UInt64(u)), item: .number(p), rating: 10)
                model.observe(user: .number(UInt64(u)), item: .number(p + 100), rating: 10)
            }
            model.observe(user: .text("newcomer"), item: .number(4), rating: 10)
            return model
        }
        let on = model(slots: 1024)
        XCTAssertEqual(on.top(user: .text("newcomer"), n: 1).items.first?.item, .number(104))
        XCTAssertEqual(on.top(TopQuery(.anonymous([(item: .number(7), rating: nil)]), n: 1)).items.first?.item, .number(107))
        let twice = on.top(TopQuery(.anonymous([(item: .number(7), rating: nil), (item: .number(3), rating: nil), (item: .number(7), rating: nil)]), n: 3))
        let once = on.top(TopQuery(.anonymous([(item: .number(3), rating: nil), (item: .number(7), rating: nil)]), n: 3))
        XCTAssertEqual(twice.items.map(\.item), once.items.map(\.item), "an item given twice counts as one like")
        let off = model(slots: 0)
        XCTAssertNotEqual(off.top(user: .text("newcomer"), n: 1).items.first?.item, .number(104),
                          "without the head, one like does not single out its partner")
    }

    /// The branch-free fold adds the same bits as adding each held neighbour in turn, and only zeros to its spare floats.
    func testWeightedFoldMatchesNeighbourByNeighbour() {
        var counts = NeighbourCounts()
        var rng = SplitMix64(seed: 9)
        for _ in 0..<3_000 { counts.add(Int32(rng.next() % 700), by: UInt32(1 + rng.next() % 3), limit: 256) }
        let damping = (0..<1_000).map { _ in 0.1 + abs(rng.nextSignedUnit()) }
        let bias = (0..<1_000).map { _ in rng.nextSignedUnit() }
        var expected = bias
        counts.forEach { j, c in expected[Int(j)] += 0.37 * Float(c) * damping[Int(j)] }
        var folded = bias + repeatElement(0, count: 8)
        damping.withUnsafeBufferPointer { damping in
            folded.withUnsafeMutableBufferPointer { folded in
                counts.addWeighted(scale: 0.37, damping: damping.baseAddress!, into: folded.baseAddress!, spare: bias.count)
            }
        }
        XCTAssertEqual(folded.prefix(bias.count).map(\.bitPattern), expected.map(\.bitPattern))
        XCTAssertEqual(folded.suffix(8).map(\.bitPattern), Array(repeating: 0, count: 8), "empty slots add +0 to the spares")
    }

    /// A count at the top of UInt32 stops there instead of trapping the learner.
    func testCountsSaturate() {
        var counts = NeighbourCounts()
        counts.place(5, .max - 1)
        counts.add(5, by: 2, limit: 8)
        XCTAssertEqual(counts.count(of: 5), .max)
        XCTAssertTrue(counts.bump(5))
        XCTAssertEqual(counts.count(of: 5), .max)
    }
}
