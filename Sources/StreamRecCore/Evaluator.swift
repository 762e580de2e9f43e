/// Scores a model on a stream the way the daemon would see it.
///
/// It drives `Model.observe` and `Model.top`, the very code the daemon runs,
/// so what it reports is what the daemon would have answered.
public struct Evaluator {
    /// What counts as a hit and how often to check.
    public struct HitRateSettings: Sendable {
        /// Ratings at or above this are positives.
        public var positiveThreshold: Float = 8
        /// Score every k-th positive (1 = all); 0 turns HR off.
        public var every = 20
        /// List length N of HR@N.
        public var listLength = 10

        public init() {}
    }

    /// Running totals; `rmse`, `mae` and `hitRate` read them.
    public struct Totals: Sendable {
        public var events = 0
        public var squaredError: Double = 0
        public var absoluteError: Double = 0
        public var positives = 0
        public var scored = 0
        public var hits = 0

        public init() {}

        public var rmse: Double { events == 0 ? .nan : (squaredError / Double(events)).squareRoot() }
        public var mae: Double { events == 0 ? .nan : absoluteError / Double(events) }
        public var hitRate: Double { scored == 0 ? .nan : Double(hits) / Double(scored) }

        mutating func addError(_ prediction: Float, _ rating: Float) {
            let error = Double(prediction) - Double(rating)
            events += 1
            squaredError += error * error
            absoluteError += abs(error)
        }
    }

    public var model: Model
    public var hitRate: HitRateSettings
    public private(set) var totals = Totals()

    public init(model: Model, hitRate: HitRateSettings = HitRateSettings()) {
        self.model = model
        self.hitRate = hitRate
    }

    /// Test-then-train on one event: score the prediction (and, for every
    /// k-th positive, whether the item is in the user's top-N), then learn it.
    public mutating func prequential(_ event: RatingEvent) {
        if hitRate.every > 0, event.rating >= hitRate.positiveThreshold {
            totals.positives += 1
            if totals.positives % hitRate.every == 0 {
                totals.scored += 1
                let list = model.top(user: event.user, n: hitRate.listLength).items
                if list.contains(where: { $0.item == event.item }) { totals.hits += 1 }
            }
        }
        let prior = model.observe(event)
        totals.addError(prior, event.rating)
    }

    /// Prequential evaluation of a whole stream, in order; `after(n, totals)`
    /// runs once `n` events are done (for learning curves).
    ///
    /// With HR off nothing reads the neighbour head mid-stream, so it is
    /// counted on a second thread (`NeighbourPipeline`); the model ends the
    /// same either way.
    public mutating func prequential(stream events: [RatingEvent], after: (Int, Totals) -> Void = { _, _ in }) {
        model.reserveCapacity(events: events.count)
        let pipeline = hitRate.every == 0 ? NeighbourPipeline.start(detachingFrom: &model) : nil
        // The next two events' rows and ID slots are fetched meanwhile (as
        // `Model.observe(_:)` over a batch does), read in place: copying
        // events into optionals for that cost 8 % of this loop (perf).
        events.withUnsafeBufferPointer { events in
            for n in events.indices {
                if n + 2 < events.endIndex { model.prefetchIDs(user: events[n + 2].user, item: events[n + 2].item) }
                if n + 1 < events.endIndex { model.prefetch(user: events[n + 1].user, item: events[n + 1].item) }
                prequential(events[n])
                pipeline?.handOver(from: &model)
                after(n + 1, totals)
            }
        }
        pipeline?.finish(into: &model)
    }

    /// Holdout scoring: the prediction's error, without learning.
    public mutating func score(_ event: RatingEvent) {
        totals.addError(model.predict(user: event.user, item: event.item).score, event.rating)
    }

    /// Learning only, nothing scored (the train half of holdout), with the
    /// neighbour head counted on a second thread.
    public mutating func learn(_ events: [RatingEvent]) {
        model.reserveCapacity(events: events.count)
        let pipeline = NeighbourPipeline.start(detachingFrom: &model)
        var start = events.startIndex
        while start < events.endIndex {
            let end = min(start + NeighbourPipeline.batchSize, events.endIndex)
            model.observe(events[start..<end])
            pipeline?.handOver(from: &model)
            start = end
        }
        pipeline?.finish(into: &model)
    }

    /// Starts a new tally (e.g. between training and testing).
    public mutating func resetTotals() { totals = Totals() }
}
