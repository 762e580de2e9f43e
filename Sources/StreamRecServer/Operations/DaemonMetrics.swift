import Prometheus
import StreamRecCore

/// The daemon's metrics, registered in the Prometheus registry of a
/// `Telemetry`, each with the help text `/metrics` shows as `# HELP`. The
/// event loop updates the figures from the engine between loop turns, so
/// counters come from the engine's own tallies and cannot drift from
/// `stats`; `recordQuery` is called by whichever thread answered.
///
/// Made with swift-prometheus directly rather than through swift-metrics'
/// factory, which registers every metric with an empty help text: an
/// operator scraping `/metrics` should read what each figure means.
final class DaemonMetrics {
    private let received, applied, replayed: Counter
    private let rejected: [RejectReason: Counter]
    private let users, items, modelBytes, snapshotBytes, snapshotSeconds, snapshotAge, snapshotFailing, ready: Gauge
    private let queries: [String: (count: Counter, latency: DurationHistogram)]
    private var seen = IngestCounters()

    /// Query latency buckets: the loop answers in microseconds to milliseconds.
    static let latencyBuckets: [Duration] = [10, 25, 50, 100, 250, 500, 1000, 2500, 10_000, 100_000].map { .microseconds($0) }
    /// Ops as labels: the known ones plus `unknown` and `invalid`, so a client cannot mint label values.
    static let opLabels = Engine.ops + ["unknown", "invalid"]

    init(_ telemetry: Telemetry) {
        let registry = telemetry.registry
        /// `streamrec_<metric>_<unit>` (no unit: `streamrec_<metric>`) with its help text.
        func named(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "streamrec", metricName: metric, unitName: unit, helpText: help)
        }
        func counter(_ metric: String, _ help: String, _ labels: [(String, String)] = []) -> Counter {
            registry.makeCounter(descriptor: named(metric, "total", help), labels: labels)
        }
        func gauge(_ metric: String, _ unit: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: named(metric, unit, help))
        }
        received = counter("events_received", "Rating events taken off the ingest socket, applied or rejected.")
        applied = counter("events_applied", "Rating events learned.")
        replayed = counter("events_replayed", "Events learned again from the reservoir while ingest was idle.")
        rejected = Dictionary(uniqueKeysWithValues: RejectReason.allCases.map {
            ($0, counter("events_rejected", "Rating events dropped, by reason (a bad message is dropped whole).",
                         [("reason", $0.rawValue)]))
        })
        users = gauge("users", "", "Users the model has learned.")
        items = gauge("items", "", "Items the model has learned.")
        modelBytes = gauge("model", "bytes", "Bytes of learned parameters: embeddings, biases and optimizer state.")
        snapshotBytes = gauge("snapshot", "bytes", "Size of the last snapshot written.")
        snapshotSeconds = gauge("snapshot_duration", "seconds", "Time the last snapshot took to write.")
        snapshotAge = gauge("snapshot_age", "seconds", "Seconds since the last snapshot was written.")
        snapshotFailing = gauge("snapshot_failing", "", "1 while the last snapshot attempt failed, else 0.")
        ready = gauge("ready", "", "1 while the daemon serves (snapshot restored, sockets bound), else 0.")
        queries = Dictionary(uniqueKeysWithValues: Self.opLabels.map { op in
            (op, (counter("queries", "Queries answered, by op.", [("op", op)]),
                  registry.makeDurationHistogram(
                      descriptor: named("query_duration", "seconds", "Time spent answering a query, by op."),
                      labels: [("op", op)], buckets: Self.latencyBuckets)))
        })
    }

    /// Brings every figure up to date with the engine; cheap enough for every loop turn.
    func update(_ engine: Engine, ready isReady: Bool) {
        let now = engine.counters
        received.increment(by: Int64(now.received - seen.received))
        applied.increment(by: Int64(now.applied - seen.applied))
        replayed.increment(by: Int64(now.replayed - seen.replayed))
        for (reason, count) in now.rejected where count != seen.rejected[reason] {
            rejected[reason]?.increment(by: Int64(count - (seen.rejected[reason] ?? 0)))
        }
        seen = now
        users.set(Int64(engine.model.users.count))
        items.set(Int64(engine.model.items.count))
        modelBytes.set(Int64(engine.model.parameterBytes))
        snapshotFailing.set(Int64(engine.lastSnapshotError == nil ? 0 : 1))
        ready.set(Int64(isReady ? 1 : 0))
        guard let info = engine.lastSnapshot else { return }
        snapshotAge.set(Double(Clock.unixMillis() &- info.createdAtMillis) / 1000)
        snapshotBytes.set(Int64(info.bytes))
        snapshotSeconds.set(info.milliseconds / 1000)
    }

    /// Counts one answered query and its time.
    func recordQuery(op: String, seconds: Double) {
        guard let metric = queries[op] ?? queries["unknown"] else { return }
        metric.count.increment()
        metric.latency.record(.nanoseconds(Int64(seconds * 1e9)))
    }
}

extension Model {
    /// Bytes of learned parameters: every embedding table, bias and optimizer accumulator.
    var parameterBytes: Int {
        let floats = userFactors.values.count + itemFactors.values.count + userRankFactors.values.count
            + itemRankFactors.values.count + userBias.count + itemBias.count + itemRankBias.count
            + userBiasSteps.count + itemBiasSteps.count + userRowPower.count + itemRowPower.count
        return floats * MemoryLayout<Float>.size
    }
}
