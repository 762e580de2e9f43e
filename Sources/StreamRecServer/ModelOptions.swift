import ArgumentParser
import StreamRecCore

extension Optimizer: ExpressibleByArgument {}
extension NegativeSampler: ExpressibleByArgument {}

/// The model-shaping flags, shared by `streamrecd` and `streamrec evaluate`
/// so that what is evaluated is what is served.
///
/// Numeric flags parse their next argument unconditionally, here and in
/// `streamrecd` and `streamrec`: by default `--factors -4` took `-4` for a
/// flag and said "Missing value", where the range check names what is wrong.
public struct ModelOptions: ParsableArguments {
    static let defaults = ModelSettings()

    @Option(parsing: .unconditional, help: ArgumentHelp("Embedding size k. Default \(defaults.factors).", valueName: "k"))
    public var factors: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Step size of the rating update (the base rate under adaptive). Default \(defaults.learningRate).", valueName: "rate"))
    public var learningRate: Float?

    @Option(parsing: .unconditional, help: ArgumentHelp("Step size of the bias part of the rating update. Default \(defaults.biasLearningRate).", valueName: "rate"))
    public var biasLearningRate: Float?

    @Option(parsing: .unconditional, help: ArgumentHelp("L2 regularization weight. Default \(defaults.regularization).", valueName: "lambda"))
    public var regularization: Float?

    @Option(parsing: .unconditional, help: ArgumentHelp("Seed for initial embeddings and sampling. Default \(defaults.seed).", valueName: "n"))
    public var seed: UInt64?

    @Option(parsing: .unconditional, help: ArgumentHelp("New embedding rows are drawn from ±scale/√k. Default \(defaults.initScale).", valueName: "scale"))
    public var initScale: Float?

    @Option(help: ArgumentHelp("Step sizing: sgd (one global rate) or adaptive (per row and per bias). Default \(defaults.optimizer).", valueName: "name"))
    public var optimizer: Optimizer?

    @Option(parsing: .unconditional, help: ArgumentHelp("Pairwise ranking (BPR) steps per positive rating; 0 = off. Default \(defaults.negatives).", valueName: "n"))
    public var negatives: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Step size of pairwise ranking updates. Default \(defaults.pairwiseLearningRate).", valueName: "rate"))
    public var pairwiseLearningRate: Float?

    @Option(parsing: .unconditional, help: ArgumentHelp("Ratings at or above this count as positives for ranking steps. Default \(defaults.positiveThreshold).", valueName: "rating"))
    public var positiveThreshold: Float?

    @Option(help: ArgumentHelp("Where negatives come from: uniform (any item) or popular (recent events). Default \(defaults.sampler).", valueName: "name"))
    public var sampler: NegativeSampler?

    @Option(parsing: .unconditional, help: ArgumentHelp("Recent events kept for replay and popular sampling; 0 = none. Default \(defaults.reservoirSize).", valueName: "events"))
    public var reservoirSize: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Most neighbours counted per item by the item-neighbour head; 0 = off. Default \(defaults.neighbourSlots).", valueName: "n"))
    public var neighbourSlots: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("A user's most recent likes that the neighbour head counts and recommends from. Default \(defaults.neighbourHistory).", valueName: "n"))
    public var neighbourHistory: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Neighbour counts are divided by (popularity + 1)^exponent. Default \(defaults.neighbourExponent).", valueName: "x"))
    public var neighbourExponent: Float?

    @Option(parsing: .unconditional, help: ArgumentHelp("Weight of the neighbour score against the embedding score in top. Default \(defaults.neighbourWeight).", valueName: "w"))
    public var neighbourWeight: Float?

    public init() {}

    /// The defaults with the flags given on top (what `evaluate` learns with).
    public var settings: ModelSettings { settings(over: ModelSettings()) }

    /// `base` with the flags given on top: the daemon's base comes from its
    /// config file and environment, so a flag overrides only what it names.
    public func settings(over base: ModelSettings) -> ModelSettings {
        var s = base
        if let factors { s.factors = factors }
        if let learningRate { s.learningRate = learningRate }
        if let biasLearningRate { s.biasLearningRate = biasLearningRate }
        if let regularization { s.regularization = regularization }
        if let seed { s.seed = seed }
        if let initScale { s.initScale = initScale }
        if let optimizer { s.optimizer = optimizer }
        if let negatives { s.negatives = negatives }
        if let pairwiseLearningRate { s.pairwiseLearningRate = pairwiseLearningRate }
        if let positiveThreshold { s.positiveThreshold = positiveThreshold }
        if let sampler { s.sampler = sampler }
        if let reservoirSize { s.reservoirSize = reservoirSize }
        if let neighbourSlots { s.neighbourSlots = neighbourSlots }
        if let neighbourHistory { s.neighbourHistory = neighbourHistory }
        if let neighbourExponent { s.neighbourExponent = neighbourExponent }
        if let neighbourWeight { s.neighbourWeight = neighbourWeight }
        return s
    }

    public func validate() throws {
        do { try settings.validate() } catch { throw ValidationError("\(error)") }
    }
}
