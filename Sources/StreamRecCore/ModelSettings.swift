/// The knobs that shape a model. A snapshot stores them, so a restored model
/// keeps learning the way it was learning.
public struct ModelSettings: Sendable, Equatable {
    /// Embedding size k.
    public var factors: Int = 32
    /// SGD step size.
    public var learningRate: Float = 0.01
    /// L2 weight on biases and factors.
    public var regularization: Float = 0.05
    /// Seed for the initial embedding values.
    public var seed: UInt64 = 42
    /// New rows are drawn uniformly from ±initScale/√k, so p·q starts near
    /// ±initScale² whatever k is.
    public var initScale: Float = 0.1

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
        guard (1...1024).contains(factors) else {
            throw ModelError.invalidSettings("factors must be 1...1024, got \(factors)")
        }
        guard learningRate.isFinite, learningRate > 0, learningRate < 1 else {
            throw ModelError.invalidSettings("learning rate must be in (0, 1), got \(learningRate)")
        }
        guard regularization.isFinite, regularization >= 0, regularization < 1 else {
            throw ModelError.invalidSettings("regularization must be in [0, 1), got \(regularization)")
        }
        guard initScale.isFinite, initScale >= 0 else {
            throw ModelError.invalidSettings("init scale must be >= 0, got \(initScale)")
        }
    }
}
