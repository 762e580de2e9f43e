import StreamRecCore
import XCTest

final class RecommendationTests: XCTestCase {
    /// Four planted item clusters with their own taste direction, learned to convergence.
    private func clusteredModel(negatives: Int = 0) -> Model {
        var settings = ModelSettings(factors: 8, learningRate: 0.05, regularization: 0.01, seed: 9, initScale: 0.3)
        settings.negatives = negatives
        settings.reservoirSize = 0
        var model = Model(settings: settings)
        var rng = SplitMix64(seed: 4)
        var events: [RatingEvent] = []
        for u in 0..<120 {
            let liked = u % 4
            for item in 0..<40 where rng.next() % 2 == 0 {
                events.append(RatingEvent(user: .number(UInt64(u)), item: .number(UInt64(item)), rating: item % 4 == liked ? 9 : 2))
            }
        }
        for _ in 0..<20 { for event in events.shuffled(using: &rng) { model.observe(event) } }
        return model
    }

    /// Similar items of a planted cluster member are the other members of its cluster (items ≡ mod 4).
    func testSimilarItemsReturnPlantedNeighbours() throws {
        let model = clusteredModel()
        for target in [0, 5, 10, 15] as [UInt64] {
            let neighbours = try XCTUnwrap(model.similar(item: .number(target), n: 9))
            XCTAssertEqual(neighbours.count, 9)
            XCTAssertFalse(neighbours.contains { $0.item == .number(target) }, "an item is not its own neighbour")
            for (item, score) in neighbours {
                guard case .number(let value) = item else { return XCTFail("unexpected ID \(item)") }
                XCTAssertEqual(value % 4, target % 4, "\(value) is not in \(target)'s cluster (cosine \(score))")
            }
            XCTAssertEqual(neighbours.map(\.score), neighbours.map(\.score).sorted(by: >))
        }
        XCTAssertNil(model.similar(item: .text("unknown"), n: 5))
    }

    /// On every kernel path, similar over 1,000 random items (more than one block) returns the nearest items of a brute-force cosine ranking, with their cosines to 1e-5.
    func testSimilarMatchesBruteForceCosines() throws {
        var settings = ModelSettings(factors: 32, learningRate: 0.05, regularization: 0.01, seed: 3, initScale: 0.5)
        settings.reservoirSize = 0
        var model = Model(settings: settings)
        var rng = SplitMix64(seed: 12)
        for i in 0..<1_000 { model.observe(RatingEvent(user: .number(rng.next() % 50), item: .number(UInt64(i)), rating: Float(1 + rng.next() % 10))) }
        let stride = model.itemFactors.stride
        func row(_ i: Int) -> [Float] { Array(model.itemFactors.values[i * stride ..< (i + 1) * stride]) }
        for target in [0, 417, 999] {
            let q = row(target), qNorm = FactorKernel.scalarDot(q, q, stride).squareRoot()
            let reference = (0..<1_000).filter { $0 != target }.map { i -> (row: Int, cosine: Float) in
                let r = row(i)
                return (i, FactorKernel.scalarDot(q, r, stride) / (qNorm * FactorKernel.scalarDot(r, r, stride).squareRoot()))
            }.sorted { $0.cosine > $1.cosine }.prefix(10)
            for kernel in BlockScorer.available {
                let nearest = try XCTUnwrap(model.similar(item: .number(UInt64(target)), n: 10, kernel: kernel))
                XCTAssertEqual(nearest.map(\.item), reference.map { model.items.externals[$0.row] }, "\(kernel) target \(target)")
                for (got, want) in zip(nearest, reference) { XCTAssertEqual(got.score, want.cosine, accuracy: 1e-5) }
            }
        }
    }

    /// An anonymous user folded in from a stored user's events gets nearly the same top-5 as that user: at least 4 of 5
    /// items for each user.
    func testFoldInMatchesStoredUser() {
        for negatives in [0, 2] {
            let model = clusteredModel(negatives: negatives)
            for u in [3, 14, 27, 88] as [UInt64] {
                let rated = model.items.externals.filter { model.hasRated(user: .number(u), item: $0) }
                let given = rated.map { item -> (item: ExternalID, rating: Float?) in
                    guard case .number(let value) = item else { return (item, nil) }
                    return (item, value % 4 == u % 4 ? 9 : 2)
                }
                let stored = Set(model.top(user: .number(u), n: 5).items.map(\.item))
                let (anonymous, source) = model.top(TopQuery(.anonymous(given), n: 5))
                XCTAssertEqual(source, .model)
                XCTAssertTrue(Set(anonymous.map(\.item)).isDisjoint(with: given.map(\.item)), "given items are excluded")
                let shared = stored.intersection(anonymous.map(\.item)).count
                XCTAssertGreaterThanOrEqual(shared, 4, "negatives \(negatives), user \(u): \(shared) of 5 agree")
            }
        }
    }

    /// `exclude` removes items, `candidates` restricts the list to them (unknown IDs ignored), for model and popular answers alike.
    func testFiltersAreHonoured() {
        let model = clusteredModel()
        let full = model.top(user: .number(1), n: 5).items.map(\.item)
        let excluded = model.top(TopQuery(.user(.number(1)), n: 5, exclude: Array(full.prefix(2)))).items.map(\.item)
        XCTAssertEqual(Array(excluded.prefix(3)), Array(full.dropFirst(2)))
        XCTAssertTrue(Set(excluded).isDisjoint(with: full.prefix(2)))

        let pool: [ExternalID] = [.number(1), .number(2), .number(3), .number(5), .text("nope")]
        for who in [TopQuery.Who.user(.number(1)), .user(.text("stranger"))] {
            let restricted = model.top(TopQuery(who, n: 10, excludeSeen: false, candidates: pool)).items.map(\.item)
            XCTAssertEqual(Set(restricted), Set(pool.dropLast()), "only known candidates come back")
        }
        let popularOnly = model.top(TopQuery(.user(.text("stranger")), n: 3, exclude: [model.popular(n: 1)[0].item]))
        XCTAssertEqual(popularOnly.source, .popular)
        XCTAssertEqual(popularOnly.items.map(\.item), Array(model.popular(n: 4).map(\.item).dropFirst()))
    }
}
