import ArgumentParser
import StreamRecCore

extension Optimizer: ExpressibleByArgument {}
extension NegativeSampler: ExpressibleByArgument {}

/// The model-shaping flags, shared by `streamrecd` and `streamrec evaluate`
/// so that what is evaluated is what is served.
public struct ModelOptions: ParsableArguments {
    static let defaults = ModelSettings()

    @Option(help: ArgumentHelp("Embedding size k.", valueName: "k"))
    public var factors = defaults.factors

    @Option(help: ArgumentHelp("Step size of the rating update (the base rate under adaptive).", valueName: "rate"))
    public var learningRate = defaults.learningRate

    @Option(help: ArgumentHelp("Step size of the bias part of the rating update.", valueName: "rate"))
    public var biasLearningRate = defaults.biasLearningRate

    @Option(help: ArgumentHelp("L2 regularization weight.", valueName: "lambda"))
    public var regularization = defaults.regularization

    @Option(help: ArgumentHelp("Seed for initial embeddings and sampling.", valueName: "n"))
    public var seed = defaults.seed

    @Option(help: ArgumentHelp("New embedding rows are drawn from ±scale/√k.", valueName: "scale"))
    public var initScale = defaults.initScale

    @Option(help: ArgumentHelp("Step sizing: sgd (one global rate) or adaptive (per row and per bias).", valueName: "name"))
    public var optimizer = defaults.optimizer

    @Option(help: ArgumentHelp("Pairwise ranking (BPR) steps per positive rating; 0 = off.", valueName: "n"))
    public var negatives = defaults.negatives

    @Option(help: ArgumentHelp("Step size of pairwise ranking updates.", valueName: "rate"))
    public var pairwiseLearningRate = defaults.pairwiseLearningRate

    @Option(help: ArgumentHelp("Ratings at or above this count as positives for ranking steps.", valueName: "rating"))
    public var positiveThreshold = defaults.positiveThreshold

    @Option(help: ArgumentHelp("Where negatives come from: uniform (any item) or popular (recent events).", valueName: "name"))
    public var sampler = defaults.sampler

    @Option(help: ArgumentHelp("Recent events kept for replay and popular sampling; 0 = none.", valueName: "events"))
    public var reservoirSize = defaults.reservoirSize

    public init() {}

    public var settings: ModelSettings {
        var s = ModelSettings(factors: factors, learningRate: learningRate, regularization: regularization, seed: seed)
        s.biasLearningRate = biasLearningRate
        s.initScale = initScale
        s.optimizer = optimizer
        s.negatives = negatives
        s.pairwiseLearningRate = pairwiseLearningRate
        s.positiveThreshold = positiveThreshold
        s.sampler = sampler
        s.reservoirSize = reservoirSize
        return s
    }

    public func validate() throws {
        do { try settings.validate() } catch { throw ValidationError("\(error)") }
    }
}
