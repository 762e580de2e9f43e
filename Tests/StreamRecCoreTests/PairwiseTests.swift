import StreamRecCore
import XCTest

final class PairwiseTests: XCTestCase {
    /// Three planted taste groups: each user rates half of their own group's
    /// items 9 and some other groups' items 3; the other half of their own
    /// group is held out. Returns the events and, per user, the held-out items.
    private func plantedGroups(seed: UInt64) -> (events: [RatingEvent], heldOut: [UInt64: [UInt64]]) {
        var rng = SplitMix64(seed: seed)
        var events: [RatingEvent] = []
        var heldOut: [UInt64: [UInt64]] = [:]
        let groups: UInt64 = 3, usersPerGroup: UInt64 = 30, itemsPerGroup: UInt64 = 20
        for u in 0..<(groups * usersPerGroup) {
            let group = u % groups
            let own = (0..<itemsPerGroup).map { group * itemsPerGroup + $0 }.shuffled(using: &rng)
            heldOut[u] = Array(own[10...])
            for item in own[..<10] { events.append(RatingEvent(user: .number(u), item: .number(item), rating: 9)) }
            for _ in 0..<6 {
                let other = (group + 1 + rng.next() % (groups - 1)) % groups
                events.append(RatingEvent(user: .number(u), item: .number(other * itemsPerGroup + rng.next() % itemsPerGroup), rating: 3))
            }
        }
        return (events.shuffled(using: &rng), heldOut)
    }

    /// Average position (0 = first, 1 = last) of each user's held-out own-group items in their top list.
    private func meanHeldOutPosition(_ model: Model, _ heldOut: [UInt64: [UInt64]]) -> Double {
        var total = 0.0, count = 0
        for (user, items) in heldOut {
            let ranked = model.top(user: .number(user), n: 1000).items.map(\.item)
            for item in items {
                guard let position = ranked.firstIndex(of: .number(item)) else { continue }
                total += Double(position) / Double(max(1, ranked.count - 1))
                count += 1
            }
        }
        return total / Double(count)
    }

    /// Pairwise (BPR) steps move held-out planted positives from mid-list (where an untrained ranking head leaves them) to the top third.
    func testPairwiseStepsRaisePlantedPositives() {
        let (events, heldOut) = plantedGroups(seed: 17)
        func trained(pairwiseRate: Float) -> Model {
            var settings = ModelSettings(factors: 8, learningRate: 0.05, regularization: 0.01, seed: 3, initScale: 0.5)
            settings.negatives = 4
            settings.pairwiseLearningRate = pairwiseRate
            settings.positiveThreshold = 8
            settings.reservoirSize = 0
            settings.neighbourSlots = 0  // the ranking head alone
            var model = Model(settings: settings)
            for _ in 0..<15 { for event in events { model.observe(event) } }
            return model
        }
        let untrained = meanHeldOutPosition(trained(pairwiseRate: 1e-9), heldOut)
        let learned = meanHeldOutPosition(trained(pairwiseRate: 0.05), heldOut)
        XCTAssertGreaterThan(untrained, 0.35, "an untrained ranking head places planted positives near the middle")
        XCTAssertLessThan(learned, 0.2, "pairwise learning lifts planted positives to the top of the list")
        XCTAssertLessThan(learned, untrained / 2)
    }

    /// With pairwise ranking on, `top` ranks by the ranking head while `predict` still answers on the rating scale.
    func testRankingHeadLeavesRatingPredictionsOnScale() {
        let (events, _) = plantedGroups(seed: 5)
        var settings = ModelSettings()
        settings.negatives = 2
        var model = Model(settings: settings)
        for event in events { model.observe(event) }
        XCTAssertTrue(model.hasRankingHead)
        XCTAssertEqual(model.userRankFactors.rows, model.users.count)
        XCTAssertEqual(model.itemRankFactors.rows, model.items.count)
        let prediction = model.predict(user: .number(0), item: .number(0)).score
        XCTAssertTrue((3...9).contains(prediction), "prediction \(prediction) stays within the ratings seen")
    }
}
