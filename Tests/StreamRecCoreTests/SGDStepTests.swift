import XCTest
@testable import StreamRecCore

/// One SGD step, checked against numbers computed by hand from the update rule:
/// μ first becomes the running mean, then e = r − (μ + b_u + b_i + p·q),
/// b += lr_b (e − λ b), p += lr (e q − λ p), q += lr (e p_old − λ q).
/// The bias step lr_b (`biasLearningRate`) is set different from lr so a mix-up shows.
final class SGDStepTests: XCTestCase {
    private let settings: ModelSettings = {
        var s = ModelSettings(factors: 2, learningRate: 0.1, regularization: 0.05, seed: 7, initScale: 0.5).plainSGD
        s.biasLearningRate = 0.2
        return s
    }()

    /// Hand-computed dot product of two 2-factor rows.
    private func dot(_ p: [Float], _ q: [Float]) -> Float { p[0] * q[0] + p[1] * q[1] }

    /// The first event on a fresh model moves biases and factors exactly as the rule says, starting from the seeded initial rows.
    func testFirstStepMatchesHandComputation() {
        // The initial rows are drawn from SplitMix64(seed) uniform in ±initScale/√k: user row first, then item row.
        var rng = SplitMix64(seed: settings.seed)
        let scale = settings.initScale / Float(2).squareRoot()
        let p0: [Float] = [rng.nextSignedUnit() * scale, rng.nextSignedUnit() * scale]
        let q0: [Float] = [rng.nextSignedUnit() * scale, rng.nextSignedUnit() * scale]
        XCTAssertNotEqual(dot(p0, q0), 0, "the test needs non-zero initial rows to be meaningful")

        var model = Model(settings: settings)
        XCTAssertEqual(model.userFactors.stride, 8, "2 factors are padded to one SIMD8 lane group")
        let prior = model.observe(user: .number(1), item: .number(10), rating: 4)
        XCTAssertEqual(prior, 0, "an empty model predicts μ = 0, unclamped because no range is known yet")

        let lr: Float = 0.1, blr: Float = 0.2, reg: Float = 0.05
        let mean: Float = 4  // running mean after the first rating
        let error = 4 - (mean + 0 + 0 + dot(p0, q0))
        let bu = blr * (error - reg * 0)
        let bi = blr * (error - reg * 0)
        let p1 = (0..<2).map { p0[$0] + lr * (error * q0[$0] - reg * p0[$0]) }
        let q1 = (0..<2).map { q0[$0] + lr * (error * p0[$0] - reg * q0[$0]) }

        XCTAssertEqual(model.globalMean, mean)
        XCTAssertEqual(model.userBias[0], bu, accuracy: 1e-7)
        XCTAssertEqual(model.itemBias[0], bi, accuracy: 1e-7)
        for f in 0..<2 {
            XCTAssertEqual(model.userFactors.row(0)[f], p1[f], accuracy: 1e-7, "user factor \(f)")
            XCTAssertEqual(model.itemFactors.row(0)[f], q1[f], accuracy: 1e-7, "item factor \(f)")
        }
        XCTAssertEqual(Array(model.userFactors.values[2..<8]), [Float](repeating: 0, count: 6), "padding stays zero")
        XCTAssertEqual(Array(model.itemFactors.values[2..<8]), [Float](repeating: 0, count: 6), "padding stays zero")
        XCTAssertEqual(model.eventsApplied, 1)
        XCTAssertEqual(model.minRating, 4)
        XCTAssertEqual(model.maxRating, 4)
    }

    /// A second, different rating on a learned pair uses the new running mean and the current (non-zero) biases and factors.
    func testSecondStepUsesUpdatedMeanAndState() {
        var model = Model(settings: settings)
        model.observe(user: .number(1), item: .number(10), rating: 4)
        let bu0 = model.userBias[0], bi0 = model.itemBias[0]
        let p0 = model.userFactors.row(0), q0 = model.itemFactors.row(0)
        XCTAssertNotEqual(bu0, 0, "the first step must have moved the bias")

        let prior = model.observe(user: .number(1), item: .number(10), rating: 1)
        // Before the step the range seen is [4, 4], so the prior is clamped to 4.
        XCTAssertEqual(prior, 4)

        let lr: Float = 0.1, blr: Float = 0.2, reg: Float = 0.05
        let mean: Float = (4 + 1) / 2
        let error = 1 - (mean + bu0 + bi0 + dot(p0, q0))
        let bu1 = bu0 + blr * (error - reg * bu0)
        let bi1 = bi0 + blr * (error - reg * bi0)
        let p1 = (0..<2).map { p0[$0] + lr * (error * q0[$0] - reg * p0[$0]) }
        let q1 = (0..<2).map { q0[$0] + lr * (error * p0[$0] - reg * q0[$0]) }

        XCTAssertEqual(model.globalMean, 2.5)
        XCTAssertEqual(model.userBias[0], bu1, accuracy: 1e-6)
        XCTAssertEqual(model.itemBias[0], bi1, accuracy: 1e-6)
        for f in 0..<2 {
            XCTAssertEqual(model.userFactors.row(0)[f], p1[f], accuracy: 1e-6, "user factor \(f)")
            XCTAssertEqual(model.itemFactors.row(0)[f], q1[f], accuracy: 1e-6, "item factor \(f)")
        }
        XCTAssertEqual(model.minRating, 1)
        XCTAssertEqual(model.maxRating, 4)
        XCTAssertEqual(model.popularity, [1], "a re-rating is not a new distinct user")
        XCTAssertEqual(model.eventsApplied, 2)
    }

    /// A step touches only the rated user's and item's rows and biases, leaving every other row bit-identical.
    func testStepLeavesOtherRowsUntouched() {
        var model = Model(settings: settings)
        model.observe(user: .number(1), item: .number(10), rating: 4)
        model.observe(user: .number(2), item: .number(20), rating: 2)
        let otherUser = model.userFactors.row(0), otherItem = model.itemFactors.row(0)
        let otherUserBias = model.userBias[0], otherItemBias = model.itemBias[0]
        model.observe(user: .number(2), item: .number(20), rating: 5)
        XCTAssertEqual(model.userFactors.row(0), otherUser)
        XCTAssertEqual(model.itemFactors.row(0), otherItem)
        XCTAssertEqual(model.userBias[0], otherUserBias)
        XCTAssertEqual(model.itemBias[0], otherItemBias)
        XCTAssertNotEqual(model.userFactors.row(1), [0, 0])
    }
}
