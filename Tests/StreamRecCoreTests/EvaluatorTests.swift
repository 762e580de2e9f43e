import StreamRecCore
import XCTest

final class EvaluatorTests: XCTestCase {
    /// Prequential RMSE and MAE are computed from the priors `observe` returns, exactly as a client replaying the stream would.
    func testPrequentialTotalsMatchTheModelsPriors() {
        let events: [RatingEvent] = (0..<500).map { (n: Int) -> RatingEvent in
            let user = ExternalID.number(UInt64(n % 23)), item = ExternalID.number(UInt64(n % 31))
            return RatingEvent(user: user, item: item, rating: Float(n % 10 + 1))
        }
        var evaluator = Evaluator(model: Model())
        var reference = Model()
        var squared = 0.0, absolute = 0.0
        for event in events {
            evaluator.prequential(event)
            let prior = Double(reference.observe(event))
            squared += (prior - Double(event.rating)) * (prior - Double(event.rating))
            absolute += abs(prior - Double(event.rating))
        }
        XCTAssertEqual(evaluator.totals.events, 500)
        XCTAssertEqual(evaluator.totals.rmse, (squared / 500).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(evaluator.totals.mae, absolute / 500, accuracy: 1e-12)
        XCTAssertEqual(evaluator.model, reference, "scoring HR does not change what the model learns")
    }

    /// HR@N counts a hit when the event's item is in the user's top list before learning it, and scores only every k-th positive.
    func testHitRateScoresEveryKthPositive() {
        var hr = Evaluator.HitRateSettings()
        hr.every = 2
        hr.listLength = 1
        hr.positiveThreshold = 5
        var evaluator = Evaluator(model: Model(), hitRate: hr)
        // Item 7 becomes the most popular; user 99 (new, so popularity fallback) then rates it.
        for u in 0..<4 { evaluator.prequential(RatingEvent(user: .number(UInt64(u)), item: .number(7), rating: 1)) }
        evaluator.prequential(RatingEvent(user: .number(99), item: .number(8), rating: 9))  // positive #1: not scored
        evaluator.prequential(RatingEvent(user: .number(98), item: .number(7), rating: 9))  // positive #2: scored, hit
        evaluator.prequential(RatingEvent(user: .number(97), item: .number(9), rating: 9))  // #3: not scored
        evaluator.prequential(RatingEvent(user: .number(96), item: .number(8), rating: 9))  // #4: scored, miss (7 leads)
        XCTAssertEqual(evaluator.totals.positives, 4)
        XCTAssertEqual(evaluator.totals.scored, 2)
        XCTAssertEqual(evaluator.totals.hits, 1)
        XCTAssertEqual(evaluator.totals.hitRate, 0.5)
    }

    /// With HR off the neighbour head is counted on a second thread, and the model ends the same as learning event by event, across several hand-offs.
    func testPipelinedStreamLearnsTheSameModel() {
        var rng = SplitMix64(seed: 3)
        // About 9 distinct pairs in 10: some nine hand-offs of 4,096 ratings, then the rest.
        let events: [RatingEvent] = (0..<(9 * NeighbourPipeline.batchSize + 123)).map { _ in
            RatingEvent(user: .number(rng.next() % 3_000), item: .number(rng.next() % 1_000), rating: Float(rng.next() % 10 + 1))
        }
        var hr = Evaluator.HitRateSettings()
        hr.every = 0
        var pipelined = Evaluator(model: Model(), hitRate: hr)
        var seen: [Int] = []
        pipelined.prequential(stream: events) { n, totals in
            if n % 1000 == 0 { seen.append(totals.events) }
        }
        var reference = Evaluator(model: Model(), hitRate: hr)
        for event in events { reference.prequential(event) }

        XCTAssertEqual(seen, Array(stride(from: 1000, through: events.count, by: 1000)))
        XCTAssertGreaterThan(pipelined.model.ratedPairs.count, 8 * NeighbourPipeline.batchSize)
        XCTAssertNil(pipelined.model.detachedNeighbourRatings, "the head is back in the model")
        XCTAssertGreaterThan(pipelined.model.neighbourHead.liked.count, 1000)
        XCTAssertEqual(pipelined.model.neighbourHead, reference.model.neighbourHead)
        XCTAssertEqual(pipelined.model, reference.model)
        XCTAssertEqual(pipelined.totals.squaredError, reference.totals.squaredError)

        var learned = Evaluator(model: Model())
        learned.learn(events)
        var inLine = Model()
        inLine.observe(events[...])
        XCTAssertEqual(learned.model, inLine, "holdout training counts the head on a second thread too")
    }
}
