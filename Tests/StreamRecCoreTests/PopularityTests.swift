import XCTest
@testable import StreamRecCore

/// Popularity counts distinct users per item, with ties broken by first appearance.
final class PopularityTests: XCTestCase {
    private let settings = ModelSettings(factors: 4, learningRate: 0.05, regularization: 0.05, seed: 3).plainSGD

    /// A re-rating does not count twice, and equal counts rank the item seen first higher.
    func testDistinctUsersAndTieOrder() {
        var model = Model(settings: settings)
        model.observe(user: .number(3), item: .text("b"), rating: 3)   // "b" appears first
        model.observe(user: .number(1), item: .text("a"), rating: 4)
        model.observe(user: .number(2), item: .text("a"), rating: 4)
        model.observe(user: .number(4), item: .text("b"), rating: 2)
        model.observe(user: .number(1), item: .text("c"), rating: 1)
        for _ in 0..<5 { model.observe(user: .number(1), item: .text("a"), rating: 5) }  // re-ratings

        let top = model.popular(n: 10)
        XCTAssertEqual(top.map(\.item), [.text("b"), .text("a"), .text("c")])
        XCTAssertEqual(top.map(\.count), [2, 2, 1])
        XCTAssertEqual(model.popular(n: 1).map(\.item), [.text("b")])
        XCTAssertEqual(model.popular(n: 0).count, 0)
        XCTAssertEqual(model.items.externals.filter { model.hasRated(user: .number(1), item: $0) }, [.text("a"), .text("c")],
                       "user 1 rated a and c")
    }

    /// Tie-breaking by first appearance holds for many equal counts, beyond what a heap would keep by accident.
    func testManyTiesKeepStreamOrder() {
        var model = Model(settings: settings)
        for item in (0..<50).reversed() { model.observe(user: .number(1), item: .number(UInt64(item)), rating: 3) }
        XCTAssertEqual(model.popular(n: 7).map(\.item), (43..<50).reversed().map { .number(UInt64($0)) })
    }
}

/// `top`, `predict` and their fallbacks.
final class AnswerTests: XCTestCase {
    private let settings = ModelSettings(factors: 4, learningRate: 0.05, regularization: 0.02, seed: 11, initScale: 0.3).plainSGD

    private func trainedModel() -> Model {
        var model = Model(settings: settings)
        var rng = SplitMix64(seed: 77)
        for _ in 0..<3 {
            for user in 0..<6 {
                for item in 0..<12 where (user + item) % 3 != 0 {
                    model.observe(user: .number(UInt64(user)), item: .number(UInt64(100 + item)),
                                  rating: Float(1 + (user * item) % 5) + rng.nextSignedUnit() * 0.1)
                }
            }
        }
        return model
    }

    /// top leaves out the user's rated items unless excludeSeen is false, and lists scores best first.
    func testTopExcludesSeenItems() throws {
        let model = trainedModel()
        let user = ExternalID.number(1)
        let u = try XCTUnwrap(model.users.index(of: user))
        let seen = Set(model.items.externals.filter { model.hasRated(user: user, item: $0) })
        XCTAssertFalse(seen.isEmpty)

        let (unseen, source) = model.top(user: user, n: 100)
        XCTAssertEqual(source, .model)
        XCTAssertEqual(unseen.count, model.items.count - seen.count)
        XCTAssertTrue(unseen.allSatisfy { !seen.contains($0.item) })
        XCTAssertEqual(unseen.map(\.score), unseen.map(\.score).sorted(by: >))

        let (all, _) = model.top(user: user, n: 100, excludeSeen: false)
        XCTAssertEqual(all.count, model.items.count)
        XCTAssertEqual(Set(all.map(\.item)), Set(model.items.externals))
        // Scores are the unclamped model scores.
        for entry in all {
            let raw = model.rawScore(user: u, item: model.items.index(of: entry.item))
            XCTAssertEqual(entry.score, raw, accuracy: 1e-5)
        }
        XCTAssertEqual(model.top(user: user, n: 3).items.map(\.item), Array(unseen.prefix(3).map(\.item)))
    }

    /// A user with no events gets the popular list, with counts as scores and source `.popular`.
    func testUnknownUserGetsPopular() {
        let model = trainedModel()
        let (items, source) = model.top(user: .text("stranger"), n: 4)
        XCTAssertEqual(source, .popular)
        let popular = model.popular(n: 4)
        XCTAssertEqual(items.map(\.item), popular.map(\.item))
        XCTAssertEqual(items.map(\.score), popular.map { Float($0.count) })
        XCTAssertEqual(items.count, 4)
    }

    /// predict falls back to μ plus the known side's bias when either ID is unknown, and says so.
    func testPredictFallback() throws {
        let model = trainedModel()
        let i = try XCTUnwrap(model.items.index(of: .number(101)))
        let u = try XCTUnwrap(model.users.index(of: .number(2)))

        let both = model.predict(user: .text("nobody"), item: .text("nothing"))
        XCTAssertEqual(both.source, .fallback)
        XCTAssertEqual(both.score, model.clamp(model.globalMean), accuracy: 1e-6)

        let itemOnly = model.predict(user: .text("nobody"), item: .number(101))
        XCTAssertEqual(itemOnly.source, .fallback)
        XCTAssertEqual(itemOnly.score, model.clamp(model.globalMean + model.itemBias[Int(i)]), accuracy: 1e-6)

        let userOnly = model.predict(user: .number(2), item: .text("nothing"))
        XCTAssertEqual(userOnly.source, .fallback)
        XCTAssertEqual(userOnly.score, model.clamp(model.globalMean + model.userBias[Int(u)]), accuracy: 1e-6)

        let known = model.predict(user: .number(2), item: .number(101))
        XCTAssertEqual(known.source, .model)
        XCTAssertEqual(known.score, model.clamp(model.rawScore(user: u, item: i)), accuracy: 1e-6)
        XCTAssertEqual(model.predict(user: ExternalID("2"), item: ExternalID("101")).source, .model, "text \"2\" is the number 2")
    }

    /// Predictions are clamped to the range of ratings seen, even when the raw score lies far outside it.
    func testPredictionsAreClamped() throws {
        var settings = ModelSettings(factors: 2, learningRate: 0.1, regularization: 0, seed: 1).plainSGD
        settings.biasLearningRate = 0.1
        var model = Model(settings: settings)
        for _ in 0..<60 {
            for k in 0..<4 {
                model.observe(user: .text("hi"), item: .number(UInt64(k)), rating: 5)
                model.observe(user: .number(UInt64(10 + k)), item: .text("top"), rating: 5)
                model.observe(user: .text("lo"), item: .number(UInt64(20 + k)), rating: 1)
                model.observe(user: .number(UInt64(30 + k)), item: .text("bottom"), rating: 1)
            }
        }
        let hi = try XCTUnwrap(model.users.index(of: .text("hi")))
        let top = try XCTUnwrap(model.items.index(of: .text("top")))
        let lo = try XCTUnwrap(model.users.index(of: .text("lo")))
        let bottom = try XCTUnwrap(model.items.index(of: .text("bottom")))
        XCTAssertGreaterThan(model.rawScore(user: hi, item: top), 5.5, "precondition: raw score above the scale")
        XCTAssertLessThan(model.rawScore(user: lo, item: bottom), 0.5, "precondition: raw score below the scale")

        XCTAssertEqual(model.predict(user: .text("hi"), item: .text("top")).score, 5)
        XCTAssertEqual(model.predict(user: .text("lo"), item: .text("bottom")).score, 1)
        XCTAssertEqual(model.observe(user: .text("hi"), item: .text("top"), rating: 5), 5, "observe's prior is clamped too")
        for user in model.users.externals {
            for item in model.items.externals {
                let score = model.predict(user: user, item: item).score
                XCTAssertTrue((1...5).contains(score), "\(user) \(item) → \(score)")
            }
        }
    }
}
