import Logging
import StreamRecCore

extension DaemonConfig {
    /// Every setting a config file or the environment may hold, in the order
    /// `--print-config` shows them. Each has a flag of the same name.
    public static let keys: [ConfigKey] = [
        .scalar("pull", \.pullEndpoint),
        .scalar("rep", \.repEndpoint),
        .scalar("data-dir", \.dataDirectory),
        .scalar("snapshot-interval", \.snapshotInterval),
        .choice("fsync", \.fsync),
        .scalar("shutdown-timeout", \.shutdownTimeout),
        .scalar("replay-rate", \.replayRate),
        .scalar("replay-passes", \.replayPasses),
        .scalar("query-threads", \.queryThreads),
        .scalar("busy-poll", \.busyPollMicroseconds),
        .scalar("max-message-bytes", \.maxMessageBytes),
        .scalar("max-id-bytes", \.maxIDBytes),
        .scalar("max-abs-rating", \.maxAbsRating),
        ConfigKey(name: "metrics", set: { config, value in
            let text = try value.scalar("metrics")
            config.metricsAddress = text == "off" ? nil : text
        }, get: { $0.metricsAddress ?? "off" }),
        .choice("log-level", \.logLevel),
        .choice("log-format", \.logFormat),
        ConfigKey(name: "curve-secret-key", set: { config, value in
            let text = try value.scalar("curve-secret-key")
            config.security.serverSecretKey = text.isEmpty ? nil : try CurveKeyText.key(text)
        }, get: { $0.security.serverSecretKey == nil ? "" : "(set; not shown)" }),
        .keyList("producer-keys", \.security.producerKeys),
        .keyList("client-keys", \.security.clientKeys),
        .scalar("factors", \.model.factors),
        .scalar("learning-rate", \.model.learningRate),
        .scalar("bias-learning-rate", \.model.biasLearningRate),
        .scalar("regularization", \.model.regularization),
        .scalar("seed", \.model.seed),
        .scalar("init-scale", \.model.initScale),
        .choice("optimizer", \.model.optimizer),
        .scalar("negatives", \.model.negatives),
        .scalar("pairwise-learning-rate", \.model.pairwiseLearningRate),
        .scalar("positive-threshold", \.model.positiveThreshold),
        .choice("sampler", \.model.sampler),
        .scalar("reservoir-size", \.model.reservoirSize),
        .scalar("neighbour-slots", \.model.neighbourSlots),
        .scalar("neighbour-history", \.model.neighbourHistory),
        .scalar("neighbour-exponent", \.model.neighbourExponent),
        .scalar("neighbour-weight", \.model.neighbourWeight),
    ]

    /// The effective config as YAML, the format the config file takes
    /// (the secret key is not shown).
    public var rendered: String {
        Self.keys.map { "\($0.name): \($0.get(self))\n" }.joined()
    }
}
