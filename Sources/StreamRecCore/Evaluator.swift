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
    /// Given the next two events, their rows and ID slots are fetched
    /// meanwhile (as `Model.observe(_:)` over a batch does).
    public mutating func prequential(_ event: RatingEvent, upcoming: RatingEvent? = nil, later: RatingEvent? = nil) {
        if hitRate.every > 0, event.rating >= hitRate.positiveThreshold {
            totals.positives += 1
            if totals.positives % hitRate.every == 0 {
                totals.scored += 1
                let list = model.top(user: event.user, n: hitRate.listLength).items
                if list.contains(where: { $0.item == event.item }) { totals.hits += 1 }
            }
        }
        if let later { model.prefetchIDs(user: later.user, item: later.item) }
        if let upcoming { model.prefetch(user: upcoming.user, item: upcoming.item) }
        let prior = model.observe(event)
        totals.addError(prior, event.rating)
    }

    /// Holdout scoring: the prediction's error, without learning.
    public mutating func score(_ event: RatingEvent) {
        totals.addError(model.predict(user: event.user, item: event.item).score, event.rating)
    }

    /// Learning only, nothing scored (the train half of holdout).
    public mutating func learn(_ events: [RatingEvent]) {
        model.observe(events[...])
    }

    /// Starts a new tally (e.g. between training and testing).
    public mutating func resetTotals() { totals = Totals() }
}
