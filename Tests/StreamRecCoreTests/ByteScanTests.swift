import XCTest
@testable import StreamRecCore

/// The byte mirror stays equal to the table `top` scans, and `top` over it
/// answers exactly as a float scan does.
final class ByteScanTests: XCTestCase {
    /// A model trained on `events` random ratings by 300 users of 2,000 items, with or without the ranking head.
    private func trainedModel(rankingHead: Bool, events: Int) -> Model {
        var settings = ModelSettings()
        settings.reservoirSize = 1000
        if !rankingHead { settings.negatives = 0 }
        var model = Model(settings: settings)
        var rng = SplitMix64(seed: rankingHead ? 7 : 8)
        for _ in 0..<events {
            model.observe(RatingEvent(user: .number(rng.next() % 300), item: .number(rng.next() % 2000),
                                      rating: Float(1 + rng.next() % 10)))
        }
        XCTAssertEqual(model.hasRankingHead, rankingHead)
        return model
    }

    private func assertMirrorsItsTable(_ model: Model, _ context: String) {
        XCTAssertEqual(model.scannedBytes.rows, model.items.count, context)
        XCTAssertEqual(model.scannedBytes, ByteRows(mirroring: model.scannedItems), context)
    }

    /// The mirror equals the conversion of the scanned table after learning, after replay and after a snapshot round trip, with the ranking head on and off.
    func testMirrorFollowsLearningReplayAndSnapshots() throws {
        for rankingHead in [true, false] {
            var model = trainedModel(rankingHead: rankingHead, events: 4000)
            assertMirrorsItsTable(model, "learned, ranking head \(rankingHead)")
            model.replay(count: 3000)
            assertMirrorsItsTable(model, "replayed, ranking head \(rankingHead)")
            let bytes = SnapshotFormat.encode(model, createdAtMillis: 1)
            let decoded = try bytes.withUnsafeBytes { try SnapshotFormat.decode($0) }.model
            assertMirrorsItsTable(decoded, "decoded, ranking head \(rankingHead)")
            XCTAssertEqual(decoded, model, "ranking head \(rankingHead)")
        }
    }

    /// A frozen copy keeps its mirror while the original learns on (copy-on-write, as snapshots need).
    func testFrozenCopyKeepsItsMirror() {
        var model = trainedModel(rankingHead: true, events: 2000)
        let frozen = model
        model.replay(count: 2000)
        XCTAssertNotEqual(model.scannedBytes, frozen.scannedBytes)
        assertMirrorsItsTable(frozen, "frozen copy")
        assertMirrorsItsTable(model, "original")
    }

    /// `top` (byte scan, exact rescoring) returns the same items with the same float scores as an exact float scan
    /// (the candidates path, every item listed) for every stored user, with seen items and an exclusion list left out,
    /// with the ranking head on and off.
    func testTopEqualsFloatScan() {
        for rankingHead in [true, false] {
            let model = trainedModel(rankingHead: rankingHead, events: 30_000)
            let everyItem = model.items.externals
            let excluded = Array(everyItem[100..<160])
            for u in 0..<300 {
                let user = ExternalID.number(UInt64(u))
                for (n, excludeSeen) in [(10, true), (50, false)] {
                    let scanned = model.top(TopQuery(.user(user), n: n, excludeSeen: excludeSeen, exclude: excluded))
                    let float = model.top(TopQuery(.user(user), n: n, excludeSeen: excludeSeen, exclude: excluded,
                                                   candidates: everyItem))
                    let context = "ranking head \(rankingHead), user \(u), n \(n)"
                    XCTAssertEqual(scanned.source, .model, context)
                    XCTAssertEqual(scanned.items.map(\.item), float.items.map(\.item), context)
                    XCTAssertEqual(scanned.items.map(\.score.bitPattern), float.items.map(\.score.bitPattern), context)
                    XCTAssertFalse(scanned.items.contains { excluded.contains($0.item) }, context)
                    if excludeSeen { XCTAssertFalse(scanned.items.contains { model.hasRated(user: user, item: $0.item) }, context) }
                }
            }
        }
    }
}
