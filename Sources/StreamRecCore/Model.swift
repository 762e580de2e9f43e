/// Where an answer came from: the learned model, or the fallback for IDs it
/// has not learned yet.
public enum AnswerSource: String, Sendable {
    case model
    case fallback
    case popular
}

/// A biased matrix-factorization model that learns one event at a time.
///
/// prediction = μ + b_u + b_i + p_u · q_i, where μ is the running mean of all
/// ratings seen. Every array here is a Swift value, so `let copy = model` is an
/// O(1) frozen copy that a snapshot writer can read on another thread while
/// this one keeps learning (the first write afterwards copies the arrays).
public struct Model: Sendable, Equatable {
    public let settings: ModelSettings
    public internal(set) var users = IDMap()
    public internal(set) var items = IDMap()
    public internal(set) var userFactors: FactorTable
    public internal(set) var itemFactors: FactorTable
    public internal(set) var userBias: [Float] = []
    public internal(set) var itemBias: [Float] = []
    /// Sum and count of every rating applied, for μ (kept in Double so a long
    /// stream does not drift).
    public internal(set) var ratingSum: Double = 0
    public internal(set) var ratingCount: UInt64 = 0
    /// The range of ratings seen; predictions are clamped to it.
    public internal(set) var minRating: Float = .infinity
    public internal(set) var maxRating: Float = -.infinity
    /// Per item: how many distinct users rated it.
    public internal(set) var popularity: [UInt32] = []
    /// Per user: the items they rated, in order of first rating.
    public internal(set) var ratedItems: [[Int32]] = []
    /// Every (user, item) pair rated, as `user << 32 | item`, so a re-rating
    /// does not count twice towards popularity.
    public internal(set) var ratedPairs: Set<UInt64> = []
    public internal(set) var rng: SplitMix64
    /// Events applied over the model's whole life, restarts included.
    public internal(set) var eventsApplied: UInt64 = 0

    public init(settings: ModelSettings = ModelSettings()) {
        self.settings = settings
        userFactors = FactorTable(dimension: settings.factors)
        itemFactors = FactorTable(dimension: settings.factors)
        rng = SplitMix64(seed: settings.seed)
    }

    /// The running mean rating μ (0 before any event).
    public var globalMean: Float { ratingCount == 0 ? 0 : Float(ratingSum / Double(ratingCount)) }

    private var initScale: Float { settings.initScale / Float(settings.factors).squareRoot() }

    // MARK: Learning

    /// Applies one rating by one SGD step and returns the prediction the model
    /// made for it just before (what `predict` would have said).
    @discardableResult
    public mutating func observe(user: ExternalID, item: ExternalID, rating: Float) -> Float {
        let knownUser = users.index(of: user)
        let knownItem = items.index(of: item)
        let prior = clamp(rawScore(user: knownUser, item: knownItem))
        let u = knownUser ?? addUser(user)
        let i = knownItem ?? addItem(item)
        learn(user: u, item: i, rating: rating)
        return prior
    }

    /// One SGD step on known rows.
    mutating func learn(user u: Int32, item i: Int32, rating: Float) {
        ratingSum += Double(rating)
        ratingCount += 1
        minRating = min(minRating, rating)
        maxRating = max(maxRating, rating)
        let mean = globalMean
        let lr = settings.learningRate, reg = settings.regularization
        let stride = userFactors.stride
        let (ui, ii) = (Int(u), Int(i))
        userFactors.values.withUnsafeMutableBufferPointer { userRows in
            itemFactors.values.withUnsafeMutableBufferPointer { itemRows in
                let p = userRows.baseAddress! + ui * stride
                let q = itemRows.baseAddress! + ii * stride
                let dot = FactorKernel.simdDot(p, q, stride)
                let error = rating - (mean + userBias[ui] + itemBias[ii] + dot)
                userBias[ui] += lr * (error - reg * userBias[ui])
                itemBias[ii] += lr * (error - reg * itemBias[ii])
                FactorKernel.simdUpdate(p, q, stride, error, lr, reg)
            }
        }
        if ratedPairs.insert(UInt64(UInt32(u)) << 32 | UInt64(UInt32(i))).inserted {
            popularity[ii] += 1
            ratedItems[ui].append(i)
        }
        eventsApplied += 1
    }

    private mutating func addUser(_ id: ExternalID) -> Int32 {
        let index = users.intern(id).index
        userFactors.appendRow(scale: initScale, using: &rng)
        userBias.append(0)
        ratedItems.append([])
        return index
    }

    private mutating func addItem(_ id: ExternalID) -> Int32 {
        let index = items.intern(id).index
        itemFactors.appendRow(scale: initScale, using: &rng)
        itemBias.append(0)
        popularity.append(0)
        return index
    }

    // MARK: Answers

    /// The unclamped model score for known rows; unknown rows contribute only
    /// what is known (μ plus the known side's bias).
    @inline(__always)
    func rawScore(user u: Int32?, item i: Int32?) -> Float {
        var score = globalMean
        if let u { score += userBias[Int(u)] }
        if let i { score += itemBias[Int(i)] }
        if let u, let i {
            let stride = userFactors.stride
            score += userFactors.values.withUnsafeBufferPointer { userRows in
                itemFactors.values.withUnsafeBufferPointer { itemRows in
                    FactorKernel.simdDot(userRows.baseAddress! + Int(u) * stride,
                                         itemRows.baseAddress! + Int(i) * stride, stride)
                }
            }
        }
        return score
    }

    /// Clamps to the range of ratings seen so far.
    @inline(__always)
    func clamp(_ score: Float) -> Float {
        guard minRating <= maxRating else { return score }
        return min(max(score, minRating), maxRating)
    }

    /// The predicted rating of `item` by `user`, clamped to the ratings seen.
    /// `.fallback` when either ID is unknown (μ plus whatever bias is known).
    public func predict(user: ExternalID, item: ExternalID) -> (score: Float, source: AnswerSource) {
        let u = users.index(of: user), i = items.index(of: item)
        return (clamp(rawScore(user: u, item: i)), u != nil && i != nil ? .model : .fallback)
    }

    /// The user's `n` best items by model score, leaving out what they rated
    /// unless `excludeSeen` is false. A user with no events gets `popular(n:)`.
    ///
    /// Scores are the unclamped predicted ratings, so the order among items
    /// predicted above the top of the scale is kept.
    public func top(user: ExternalID, n: Int, excludeSeen: Bool = true)
        -> (items: [(item: ExternalID, score: Float)], source: AnswerSource)
    {
        guard let u = users.index(of: user) else {
            return (popular(n: n).map { ($0.item, Float($0.count)) }, .popular)
        }
        let base = globalMean + userBias[Int(u)]
        var scores = [Float](repeating: 0, count: items.count)
        let stride = itemFactors.stride
        userFactors.values.withUnsafeBufferPointer { userRows in
            itemFactors.values.withUnsafeBufferPointer { itemRows in
                let p = userRows.baseAddress! + Int(u) * stride
                for i in 0..<scores.count {
                    scores[i] = base + itemBias[i] + FactorKernel.simdDot(p, itemRows.baseAddress! + i * stride, stride)
                }
            }
        }
        if excludeSeen {
            for i in ratedItems[Int(u)] { scores[Int(i)] = -.infinity }
        }
        var selector = TopSelector(limit: n)
        for (i, score) in scores.enumerated() where score > -.infinity {
            selector.offer(score: Double(score), row: Int32(i))
        }
        return (selector.sorted().map { (items.externals[Int($0.row)], Float($0.score)) }, .model)
    }

    /// The `n` items rated by the most distinct users, most first; ties go to
    /// the item that appeared first in the stream.
    public func popular(n: Int) -> [(item: ExternalID, count: UInt32)] {
        var selector = TopSelector(limit: n)
        for (i, count) in popularity.enumerated() {
            selector.offer(score: Double(count), row: Int32(i))
        }
        return selector.sorted().map { (items.externals[Int($0.row)], UInt32($0.score)) }
    }
}
