import Foundation
import XCTest
@testable import StreamRecCore

/// End-to-end learning on synthetic data with a known answer.
final class LearningTests: XCTestCase {
    /// Gaussian draws from SplitMix64 (Box–Muller), so the data set is the same on every run.
    private struct Gaussian {
        var rng: SplitMix64
        mutating func next() -> Float {
            let u1 = max(Double(rng.next() >> 11) / Double(1 << 53), 1e-12)
            let u2 = Double(rng.next() >> 11) / Double(1 << 53)
            return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
        }
    }

    /// Learning recovers a planted rank-3 matrix: held-out RMSE ends below 0.5 while the ratings' std is ~1.0.
    ///
    /// 200 users × 100 items; ratings = 3 + p_u·q_i + N(0, 0.1²), with p, q ~ N(0, 1/√3) per factor
    /// so Var(p·q) = 3 · (1/√3)² = 1 and the ratings' std ≈ 1.0. Half the cells are observed; 10% of those are
    /// held out. Predicting the mean scores RMSE ≈ std ≈ 1.0, and biases alone cannot do much better
    /// because the planted matrix has no bias structure; an RMSE under 0.5 (half the std, i.e. over
    /// 75% of the variance explained on unseen pairs) can only come from learning the factors.
    /// The noise floor is 0.1, so the bound has slack for SGD's finite passes.
    func testRecoversPlantedLowRankMatrix() throws {
        let users = 200, items = 100, rank = 3
        var gauss = Gaussian(rng: SplitMix64(seed: 2024))
        let scale = Float(1.0 / 3.0.squareRoot()).squareRoot()  // σ² = 1/√3 per factor
        let p = (0..<users).map { _ in (0..<rank).map { _ in gauss.next() * scale } }
        let q = (0..<items).map { _ in (0..<rank).map { _ in gauss.next() * scale } }
        func planted(_ u: Int, _ i: Int) -> Float { 3 + zip(p[u], q[i]).reduce(0) { $0 + $1.0 * $1.1 } }

        var pick = SplitMix64(seed: 9)
        var train: [(Int, Int, Float)] = [], test: [(Int, Int, Float)] = []
        for u in 0..<users {
            for i in 0..<items where pick.next() % 2 == 0 {
                let rating = planted(u, i) + 0.1 * gauss.next()
                if pick.next() % 10 == 0 { test.append((u, i, rating)) } else { train.append((u, i, rating)) }
            }
        }
        let mean = test.reduce(0) { $0 + $1.2 } / Float(test.count)
        let std = (test.reduce(0) { $0 + ($1.2 - mean) * ($1.2 - mean) } / Float(test.count)).squareRoot()
        XCTAssertGreaterThan(std, 0.8, "precondition: the ratings vary")

        var model = Model(settings: ModelSettings(factors: 8, learningRate: 0.03, regularization: 0.02, seed: 5, initScale: 0.3))
        var shuffle = SplitMix64(seed: 31)
        for _ in 0..<PASSES {
            train.shuffle(using: &shuffle)
            for (u, i, r) in train { model.observe(user: .number(UInt64(u)), item: .number(UInt64(i)), rating: r) }
        }
        func rmse(_ set: [(Int, Int, Float)]) -> Float {
            let squared = set.reduce(Float(0)) { sum, e in
                let d = model.predict(user: .number(UInt64(e.0)), item: .number(UInt64(e.1))).score - e.2
                return sum + d * d
            }
            return (squared / Float(set.count)).squareRoot()
        }
        let heldOut = rmse(test)
        print("planted rank-3: rating std \(std), held-out RMSE \(heldOut), train RMSE \(rmse(train))")
        XCTAssertLessThan(heldOut, 0.5)
        XCTAssertLessThan(heldOut, std / 2)
        XCTAssertEqual(model.eventsApplied, UInt64(train.count * PASSES))
    }
}

private let PASSES = 20
