/// How per-event steps are sized.
public enum Optimizer: String, Sendable, CaseIterable {
    /// One global learning rate for every parameter.
    case sgd
    /// Per-parameter steps: each embedding row divides the learning rate by
    /// the root of its own accumulated squared gradients (row-wise AdaGrad),
    /// and each bias's n-th step is 1/(n + 1/bias learning rate), a shrunk
    /// running mean. Rare users and items take big early steps; frequent ones
    /// settle.
    case adaptive
}

/// Where pairwise steps draw their negative items from.
public enum NegativeSampler: String, Sendable, CaseIterable {
    /// Any item seen so far, equally likely.
    case uniform
    /// Items in proportion to how often they were rated recently (drawn from
    /// the replay reservoir), which pushes the model to rank positives above
    /// popular items, not just above obscure ones.
    case popular
}

/// The knobs that shape a model. The defaults were chosen on the anime
/// ratings with `streamrec evaluate` (see docs/EVALUATION.md).
/// A snapshot stores them, so a restored model
/// keeps learning the way it was learning.
public struct ModelSettings: Sendable, Equatable {
    /// Embedding size k.
    public var factors: Int = 32
    /// Step size of the rating (regression) update.
    public var learningRate: Float = 0.05
    /// Step size of the bias part of the rating update. Biases carry most of
    /// what a young stream can learn, and take larger steps than embeddings.
    public var biasLearningRate: Float = 0.3
    /// L2 weight on biases and factors.
    public var regularization: Float = 0.05
    /// Seed for initial embedding values and negative sampling.
    public var seed: UInt64 = 42
    /// New rows are drawn uniformly from ±initScale/√k, so p·q starts near
    /// ±initScale² whatever k is.
    public var initScale: Float = 0.1
    /// How steps are sized.
    public var optimizer: Optimizer = .adaptive
    /// Pairwise (BPR) steps per positive event; 0 turns ranking steps off.
    public var negatives: Int = 1
    /// Step size of pairwise updates.
    public var pairwiseLearningRate: Float = 0.01
    /// Ratings at or above this are positives for pairwise steps.
    public var positiveThreshold: Float = 8
    /// Where negatives come from.
    public var sampler: NegativeSampler = .uniform
    /// Recent events kept for background replay and popular sampling.
    public var reservoirSize: Int = 1_000_000
    /// Most neighbours counted per item by the item-neighbour head; 0 turns
    /// the head off.
    public var neighbourSlots: Int = 1024
    /// How many of a user's most recent likes a new like is counted with,
    /// and `top` recommends from.
    public var neighbourHistory: Int = 10
    /// A neighbour's co-like count is divided by (its popularity + 1) to this
    /// power, so popular items do not neighbour everything.
    public var neighbourExponent: Float = 0.5
    /// Weight of the neighbour score against the embedding score in `top`.
    public var neighbourWeight: Float = 100

    public init() {}

    public init(factors: Int, learningRate: Float, regularization: Float, seed: UInt64, initScale: Float = 0.1) {
        self.factors = factors
        self.learningRate = learningRate
        self.regularization = regularization
        self.seed = seed
        self.initScale = initScale
    }

    /// Throws when a value would make learning meaningless or unstable.
    public func validate() throws {
        func check(_ ok: Bool, _ why: @autoclosure () -> String) throws {
            if !ok { throw ModelError.invalidSettings(why()) }
        }
        try check((1...1024).contains(factors), "factors must be 1...1024, got \(factors)")
        try check(learningRate.isFinite && learningRate > 0 && learningRate < 10,
                  "learning rate must be in (0, 10), got \(learningRate)")
        try check(biasLearningRate.isFinite && biasLearningRate > 0 && biasLearningRate < 10,
                  "bias learning rate must be in (0, 10), got \(biasLearningRate)")
        try check(regularization.isFinite && regularization >= 0 && regularization < 1,
                  "regularization must be in [0, 1), got \(regularization)")
        try check(initScale.isFinite && initScale >= 0, "init scale must be >= 0, got \(initScale)")
        try check((0...100).contains(negatives), "negatives must be 0...100, got \(negatives)")
        try check(pairwiseLearningRate.isFinite && pairwiseLearningRate >= 0 && pairwiseLearningRate < 10,
                  "pairwise learning rate must be in [0, 10), got \(pairwiseLearningRate)")
        try check(positiveThreshold.isFinite, "positive threshold must be finite")
        try check((0...100_000_000).contains(reservoirSize), "reservoir size must be 0...100000000, got \(reservoirSize)")
        try check((0...4096).contains(neighbourSlots), "neighbour slots must be 0...4096, got \(neighbourSlots)")
        try check((1...10_000).contains(neighbourHistory), "neighbour history must be 1...10000, got \(neighbourHistory)")
        try check(neighbourExponent.isFinite && (0...4).contains(neighbourExponent),
                  "neighbour exponent must be in [0, 4], got \(neighbourExponent)")
        try check(neighbourWeight.isFinite && (0...1_000_000).contains(neighbourWeight),
                  "neighbour weight must be in [0, 1000000], got \(neighbourWeight)")
        try check(sampler == .uniform || reservoirSize > 0, "the popular sampler needs a reservoir (reservoir size > 0)")
    }
}
