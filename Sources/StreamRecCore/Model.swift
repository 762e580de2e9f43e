#if canImport(Glibc)
import Glibc
#endif

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
    /// Every (user, item) pair rated, as `user << 32 | item`: a re-rating
    /// does not count twice towards popularity, and `top` leaves out what a
    /// user rated by asking it (only for items good enough to make the list).
    public internal(set) var ratedPairs = PairSet()
    /// The item-neighbour head, which `top` blends with the embedding
    /// score. Empty when the head is off (neighbour slots 0), and an empty
    /// placeholder while it is detached (`detachNeighbourHead`).
    public internal(set) var neighbourHead: NeighbourHead
    /// The neighbour head's share of each event since `detachNeighbourHead`,
    /// oldest first; nil while the head is attached (counted in line).
    public internal(set) var detachedNeighbourRatings: [NeighbourRating]? = nil
    /// The ranking head, trained only by pairwise steps and used only by
    /// `top`: user rows r_u, item rows s_i and item biases c_i. Kept apart
    /// from the rating head because pairwise steps on shared parameters cost
    /// rating accuracy (prequential RMSE 1.232 → 1.30 on anime). Empty when
    /// pairwise ranking is off.
    public internal(set) var userRankFactors: FactorTable
    public internal(set) var itemRankFactors: FactorTable
    public internal(set) var itemRankBias: [Float] = []
    /// The table `top` scans (`scannedItems`) in bytes, kept equal
    /// to its conversion: every step that writes a row of it converts that
    /// row again. Derived, not stored in snapshots (see `ByteRows`). Not kept
    /// while the neighbour head is detached, when nothing may ask `top`:
    /// `attach` converts the whole table once instead.
    public internal(set) var scannedBytes: ByteRows
    /// Adaptive-optimizer state (unused under SGD): how many steps each bias
    /// took, and each embedding row's sum of mean squared gradients (row-wise
    /// AdaGrad: one accumulator per row, not per float, so it costs one Float
    /// per row for nearly the same effect).
    public internal(set) var userBiasSteps: [Float] = []
    public internal(set) var itemBiasSteps: [Float] = []
    public internal(set) var userRowPower: [Float] = []
    public internal(set) var itemRowPower: [Float] = []
    /// The most recent events, for background replay and popular sampling.
    public internal(set) var reservoir: Reservoir
    public internal(set) var rng: SplitMix64
    /// Events applied over the model's whole life, restarts included.
    public internal(set) var eventsApplied: UInt64 = 0

    public init(settings: ModelSettings = ModelSettings()) {
        self.settings = settings
        userFactors = FactorTable(dimension: settings.factors)
        itemFactors = FactorTable(dimension: settings.factors)
        userRankFactors = FactorTable(dimension: settings.factors)
        itemRankFactors = FactorTable(dimension: settings.factors)
        scannedBytes = ByteRows(stride: itemFactors.stride)
        neighbourHead = NeighbourHead(settings: settings)
        reservoir = Reservoir(capacity: settings.reservoirSize)
        rng = SplitMix64(seed: settings.seed)
    }

    /// The running mean rating μ (0 before any event).
    public var globalMean: Float { ratingCount == 0 ? 0 : Float(ratingSum / Double(ratingCount)) }

    private var initScale: Float { settings.initScale / Float(settings.factors).squareRoot() }

    /// True when pairwise ranking is on, so `top` ranks with the ranking head.
    public var hasRankingHead: Bool { settings.negatives > 0 }

    /// The item table `top` ranks with: the ranking head's when it is on.
    public var scannedItems: FactorTable { hasRankingHead ? itemRankFactors : itemFactors }

    /// True when the item-neighbour head is on.
    public var hasNeighbourHead: Bool { settings.neighbourSlots > 0 }

    /// True when `observe` counts into `neighbourHead` itself.
    var countsNeighboursInLine: Bool { hasNeighbourHead && detachedNeighbourRatings == nil }

    /// True when every step converts the rows it writes into `scannedBytes`:
    /// always, except while the neighbour head is detached.
    var mirrorsInLine: Bool { detachedNeighbourRatings == nil }

    // MARK: Learning

    /// Applies one rating and returns the prediction the model made for it
    /// just before (what `predict` would have said).
    ///
    /// The rating takes one regression step on biases and embeddings; a
    /// positive rating also takes `negatives` pairwise ranking steps.
    @discardableResult
    public mutating func observe(user: ExternalID, item: ExternalID, rating: Float) -> Float {
        let knownUser = users.index(of: user)
        let knownItem = items.index(of: item)
        let prior = clamp(rawScore(user: knownUser, item: knownItem))
        let u = knownUser ?? addUser(user)
        let i = knownItem ?? addItem(item)
        let pair = PairSet.key(user: u, item: i)
        // What `countRating` reads is fetched while the steps run: the pair's
        // slot and, when the head is counted here, the user's newest likes and
        // the item's neighbour table would otherwise be three cache misses in
        // a row after them.
        ratedPairs.prefetch(pair)
        if countsNeighboursInLine { neighbourHead.prefetch(user: u, item: i) }
        record(rating: rating, user: u, item: i)
        train(user: u, item: i, rating: rating)
        countRating(pair, rating: rating)
        return prior
    }

    /// Starts fetching what `observe(user:item:rating:)` of a known pair
    /// reads: both rows of both heads, the item's byte mirror row,
    /// the pair's slot and the neighbour head's entries. (Each side's bias
    /// and optimizer state too measured slower on anime, 0.88 against
    /// 0.98 M events/s, and no faster with a million users.) A caller holding the
    /// next event calls it before observing the current one, so the next
    /// one's cache misses overlap this one's work instead of stalling it
    /// (`observe` over a batch, `Evaluator.prequential(stream:)`).
    public func prefetch(user: ExternalID, item: ExternalID) {
        guard let u = users.index(of: user), let i = items.index(of: item) else { return }
        userFactors.prefetchRow(u)
        itemFactors.prefetchRow(i)
        if mirrorsInLine { scannedBytes.prefetchRow(i) }
        if hasRankingHead {
            userRankFactors.prefetchRow(u)
            itemRankFactors.prefetchRow(i)
        }
        ratedPairs.prefetch(PairSet.key(user: u, item: i))
        if countsNeighboursInLine { neighbourHead.prefetch(user: u, item: i) }
    }

    /// Starts fetching where `prefetch(user:item:)` looks the IDs up: one
    /// event further ahead, so that its lookups do not wait for memory
    /// either (with 100 k users the ID table is 4 MiB).
    public func prefetchIDs(user: ExternalID, item: ExternalID) {
        users.prefetch(user)
        items.prefetch(item)
    }

    /// Learns again from `count` events drawn at random from the reservoir,
    /// without counting them as new: counters, mean and popularity stay put.
    public mutating func replay(count: Int) {
        guard !reservoir.isEmpty else { return }
        for _ in 0..<count {
            let event = reservoir.events[Int(rng.next() % UInt64(reservoir.events.count))]
            train(user: event.user, item: event.item, rating: event.rating)
        }
    }

    /// Updates the running totals the steps read (mean, range) and the
    /// reservoir (the popular sampler draws from it).
    private mutating func record(rating: Float, user u: Int32, item i: Int32) {
        ratingSum += Double(rating)
        ratingCount += 1
        minRating = min(minRating, rating)
        maxRating = max(maxRating, rating)
        reservoir.append(RecentEvent(user: u, item: i, rating: rating))
        eventsApplied += 1
    }

    /// Counts a rating of a pair not rated before: popularity and the
    /// neighbour head's share (in line, or queued while it is detached).
    /// After the steps, which do not read these (a negative is never the
    /// rated item itself). Only a pair's first rating counts, so a re-rating
    /// never counts a co-like twice.
    private mutating func countRating(_ pair: UInt64, rating: Float) {
        guard ratedPairs.insert(pair).inserted else { return }
        let u = Int32(truncatingIfNeeded: pair >> 32), i = Int32(truncatingIfNeeded: pair)
        popularity[Int(i)] += 1
        guard hasNeighbourHead else { return }
        let counted = NeighbourRating(user: u, item: i, popularity: popularity[Int(i)],
                                      isLike: rating >= settings.positiveThreshold)
        if detachedNeighbourRatings != nil {
            detachedNeighbourRatings!.append(counted)
        } else {
            neighbourHead.count(counted)
        }
    }

    /// Takes the neighbour head out of the model: from now on `observe`
    /// appends the head's share of each event to `detachedNeighbourRatings`
    /// instead of counting it, and the caller counts those into the head
    /// (`NeighbourHead.count`, in order) until `attach` puts it back.
    /// Meanwhile neither `top` nor a snapshot may be asked for (both check):
    /// the model has no head to blend or save, and its byte mirror
    /// is not kept up to date (`attach` rebuilds it). `NeighbourPipeline` is the
    /// one caller.
    mutating func detachNeighbourHead() -> NeighbourHead {
        precondition(detachedNeighbourRatings == nil, "the neighbour head is already detached")
        let head = neighbourHead
        neighbourHead = NeighbourHead(settings: settings)
        detachedNeighbourRatings = []
        return head
    }

    /// The ratings queued for the detached head since the last call, oldest
    /// first. The queue starts again with the same capacity, so a caller
    /// taking batches of one size does not regrow it each time.
    mutating func takeDetachedNeighbourRatings() -> [NeighbourRating] {
        guard let ratings = detachedNeighbourRatings else { return [] }
        detachedNeighbourRatings = []
        detachedNeighbourRatings!.reserveCapacity(ratings.count)
        return ratings
    }

    /// Makes room for `events` more events of pairs not rated before, so
    /// the pair set does not rehash on the way (a caller that knows its
    /// stream, such as `Evaluator`). Re-ratings take no slot, so a stream
    /// of mostly re-ratings reserves more than it uses (8 bytes per event
    /// at most, 16 at the table's lowest load).
    public mutating func reserveCapacity(events: Int) {
        ratedPairs.reserveCapacity(ratedPairs.count + events)
    }

    /// Puts back a head taken by `detachNeighbourHead`, once every queued
    /// rating has been counted into it.
    mutating func attach(_ head: NeighbourHead) {
        precondition(detachedNeighbourRatings?.isEmpty == true, "attach needs a detached head with every rating counted")
        precondition(head.liked.users == users.count && head.neighbours.rows.count == items.count,
                     "the attached head must have a row for every user and item")
        neighbourHead = head
        detachedNeighbourRatings = nil
        scannedBytes = ByteRows(mirroring: scannedItems)
    }

    /// The learning steps for one event on known rows.
    private mutating func train(user u: Int32, item i: Int32, rating: Float) {
        let pairwise = settings.negatives > 0 && rating >= settings.positiveThreshold && items.count > 1
        // The first negative is drawn before the regression step (which
        // draws nothing, so the draws are the same), and its pair slot and
        // row are fetched while that step runs.
        var drawn = pairwise ? drawNegative() : nil
        if let j = drawn {
            ratedPairs.prefetch(PairSet.key(user: u, item: j))
            itemRankFactors.prefetchRow(j)
            if mirrorsInLine { scannedBytes.prefetchRow(j) }
        }
        regressionStep(user: Int(u), item: Int(i), rating: rating)
        guard pairwise else { return }
        for _ in 0..<settings.negatives {
            let j = sampleNegative(for: u, positive: i, drawn: drawn)
            drawn = nil
            guard let j else { continue }
            pairwiseStep(user: Int(u), positive: Int(i), negative: Int(j))
        }
    }

    /// One regression step: pull μ + b_u + b_i + p·q towards the rating.
    private mutating func regressionStep(user u: Int, item i: Int, rating: Float) {
        let mean = globalMean
        let lr = settings.learningRate, reg = settings.regularization
        let adaptive = settings.optimizer == .adaptive
        let stride = userFactors.stride, k = userFactors.dimension
        let blr = settings.biasLearningRate
        /// AdaGrad's step for a row whose squared-gradient sum is `power`
        /// after adding this gradient. The 1e-6 only guards the first division.
        func rowStep(_ power: Float) -> Float { lr / (power + 1e-6).squareRoot() }
        /// The n-th step of a bias is 1/(n + 1/η_b): with the rest of the
        /// model fixed, that makes the bias the running mean of its residuals
        /// shrunk towards 0 as if by 1/η_b prior observations, which is the
        /// best estimate a single pass can make. AdaGrad's 1/√n decay
        /// measured worse here (prequential RMSE 1.242 vs 1.232 on anime).
        func biasStep(_ steps: Float) -> Float { 1 / (steps + 1 / blr) }
        userFactors.values.withUnsafeMutableBufferPointer { userRows in
            itemFactors.values.withUnsafeMutableBufferPointer { itemRows in
                let p = userRows.baseAddress! + u * stride
                let q = itemRows.baseAddress! + i * stride
                let error = rating - (mean + userBias[u] + itemBias[i] + FactorKernel.simdDot(p, q, stride))
                let gu = error - reg * userBias[u], gi = error - reg * itemBias[i]
                var stepP = lr, stepQ = lr, stepBu = blr, stepBi = blr
                if adaptive {
                    let power = FactorKernel.simdGradientPower(p, q, stride, error, reg, k)
                    userRowPower[u] += power.p
                    itemRowPower[i] += power.q
                    userBiasSteps[u] += 1
                    itemBiasSteps[i] += 1
                    stepP = rowStep(userRowPower[u])
                    stepQ = rowStep(itemRowPower[i])
                    stepBu = biasStep(userBiasSteps[u])
                    stepBi = biasStep(itemBiasSteps[i])
                }
                userBias[u] += stepBu * gu
                itemBias[i] += stepBi * gi
                FactorKernel.simdUpdate(p, q, stride, error, stepP, stepQ, reg)
            }
        }
        if !hasRankingHead { mirrorScannedRow(i) }
    }

    /// One BPR step on the ranking head: raise item `i` above item `j` in
    /// user `u`'s ranking (c_i + r_u·s_i versus c_j + r_u·s_j), with its own
    /// fixed step size.
    private mutating func pairwiseStep(user u: Int, positive i: Int, negative j: Int) {
        let step = settings.pairwiseLearningRate, reg = settings.regularization
        let stride = userRankFactors.stride
        userRankFactors.values.withUnsafeMutableBufferPointer { userRows in
            itemRankFactors.values.withUnsafeMutableBufferPointer { itemRows in
                let p = userRows.baseAddress! + u * stride
                let qi = itemRows.baseAddress! + i * stride
                let qj = itemRows.baseAddress! + j * stride
                let x = itemRankBias[i] - itemRankBias[j]
                    + FactorKernel.simdDot(p, qi, stride) - FactorKernel.simdDot(p, qj, stride)
                let g = 1 / (1 + expf(min(x, 30)))
                itemRankBias[i] += step * (g - reg * itemRankBias[i])
                itemRankBias[j] += step * (-g - reg * itemRankBias[j])
                FactorKernel.simdPairwiseUpdate(p, qi, qj, stride, g, step, reg)
            }
        }
        mirrorScannedRow(i)
        mirrorScannedRow(j)
    }

    /// Converts row `i` of `scannedItems` into `scannedBytes` (appending a
    /// new row), unless the mirror waits for `attach`.
    ///
    /// It names the table's stored property instead of reading `scannedItems`:
    /// that getter returns a copy, whose retain and release of the rows were
    /// a tenth of all learning time (perf, anime stream).
    private mutating func mirrorScannedRow(_ i: Int) {
        guard mirrorsInLine else { return }
        if hasRankingHead {
            let offset = i * itemRankFactors.stride
            itemRankFactors.values.withUnsafeBufferPointer { scannedBytes.set(row: i, from: $0.baseAddress! + offset) }
        } else {
            let offset = i * itemFactors.stride
            itemFactors.values.withUnsafeBufferPointer { scannedBytes.set(row: i, from: $0.baseAddress! + offset) }
        }
    }

    /// An item the user has not rated, other than `positive`; nil after a few
    /// unlucky draws (a user who rated nearly everything). `drawn` is a first
    /// candidate already drawn.
    private mutating func sampleNegative(for u: Int32, positive i: Int32, drawn: Int32?) -> Int32? {
        var drawn = drawn
        for _ in 0..<4 {
            let j = drawn ?? drawNegative()
            drawn = nil
            if j != i, !ratedPairs.contains(PairSet.key(user: u, item: j)) { return j }
        }
        return nil
    }

    /// One candidate negative from the configured sampler.
    private mutating func drawNegative() -> Int32 {
        switch settings.sampler {
        case .uniform: Int32(rng.next() % UInt64(items.count))
        case .popular: reservoir.events[Int(rng.next() % UInt64(reservoir.events.count))].item
        }
    }

    private mutating func addUser(_ id: ExternalID) -> Int32 {
        let index = users.intern(id).index
        userFactors.appendRow(scale: initScale, using: &rng)
        userBias.append(0)
        userBiasSteps.append(0)
        userRowPower.append(0)
        if hasRankingHead { userRankFactors.appendRow(scale: initScale, using: &rng) }
        return index
    }

    private mutating func addItem(_ id: ExternalID) -> Int32 {
        let index = items.intern(id).index
        itemFactors.appendRow(scale: initScale, using: &rng)
        itemBias.append(0)
        itemBiasSteps.append(0)
        itemRowPower.append(0)
        if hasRankingHead {
            itemRankFactors.appendRow(scale: initScale, using: &rng)
            itemRankBias.append(0)
        }
        mirrorScannedRow(Int(index))
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

    /// True when `user` has rated `item` (both known).
    public func hasRated(user: ExternalID, item: ExternalID) -> Bool {
        guard let u = users.index(of: user), let i = items.index(of: item) else { return false }
        return ratedPairs.contains(PairSet.key(user: u, item: i))
    }

    /// The predicted rating of `item` by `user`, clamped to the ratings seen.
    /// `.fallback` when either ID is unknown (μ plus whatever bias is known).
    public func predict(user: ExternalID, item: ExternalID) -> (score: Float, source: AnswerSource) {
        let u = users.index(of: user), i = items.index(of: item)
        return (clamp(rawScore(user: u, item: i)), u != nil && i != nil ? .model : .fallback)
    }
}
