import CoreMetrics
import Prometheus
import StreamRecCore

/// The daemon's metrics, recorded through swift-metrics into the Prometheus
/// registry of a `Telemetry`. Owned by the event loop: it reads the engine
/// between loop turns, so counters come from the engine's own tallies and
/// cannot drift from `stats`.
final class DaemonMetrics {
    private let received, applied, replayed: CoreMetrics.Counter
    private let rejected: [RejectReason: CoreMetrics.Counter]
    private let users, items, modelBytes, snapshotBytes, snapshotSeconds, snapshotAge, snapshotFailing, ready: CoreMetrics.Gauge
    private let queries: [String: (count: CoreMetrics.Counter, latency: CoreMetrics.Timer)]
    private var seen = IngestCounters()

    /// Query latency buckets: the loop answers in microseconds to milliseconds.
    static let latencyBuckets: [Duration] = [10, 25, 50, 100, 250, 500, 1000, 2500, 10_000, 100_000].map { .microseconds($0) }
    /// Ops as labels: the known ones plus `unknown` and `invalid`, so a client cannot mint label values.
    static let opLabels = Engine.ops + ["unknown", "invalid"]

    init(_ telemetry: Telemetry) {
        var factory = PrometheusMetricsFactory(registry: telemetry.registry)
        factory.durationHistogramBuckets["streamrec_query_duration_seconds"] = Self.latencyBuckets
        func counter(_ name: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Counter {
            CoreMetrics.Counter(label: name, dimensions: dimensions, factory: factory)
        }
        func gauge(_ name: String) -> CoreMetrics.Gauge { CoreMetrics.Gauge(label: name, factory: factory) }
        received = counter("streamrec_events_received_total")
        applied = counter("streamrec_events_applied_total")
        replayed = counter("streamrec_events_replayed_total")
        rejected = Dictionary(uniqueKeysWithValues: RejectReason.allCases.map {
            ($0, counter("streamrec_events_rejected_total", [("reason", $0.rawValue)]))
        })
        users = gauge("streamrec_users")
        items = gauge("streamrec_items")
        modelBytes = gauge("streamrec_model_bytes")
        snapshotBytes = gauge("streamrec_snapshot_bytes")
        snapshotSeconds = gauge("streamrec_snapshot_duration_seconds")
        snapshotAge = gauge("streamrec_snapshot_age_seconds")
        snapshotFailing = gauge("streamrec_snapshot_failing")
        ready = gauge("streamrec_ready")
        queries = Dictionary(uniqueKeysWithValues: Self.opLabels.map { op in
            (op, (counter("streamrec_queries_total", [("op", op)]),
                  CoreMetrics.Timer(label: "streamrec_query_duration_seconds", dimensions: [("op", op)], factory: factory)))
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
        users.record(engine.model.users.count)
        items.record(engine.model.items.count)
        modelBytes.record(engine.model.parameterBytes)
        snapshotFailing.record(engine.lastSnapshotError == nil ? 0 : 1)
        ready.record(isReady ? 1 : 0)
        guard let info = engine.lastSnapshot else { return }
        snapshotAge.record(Double(Clock.unixMillis() &- info.createdAtMillis) / 1000)
        snapshotBytes.record(info.bytes)
        snapshotSeconds.record(info.milliseconds / 1000)
    }

    /// Counts one answered query and its time in the loop.
    func recordQuery(op: String, seconds: Double) {
        guard let metric = queries[op] ?? queries["unknown"] else { return }
        metric.count.increment()
        metric.latency.recordNanoseconds(Int64(seconds * 1e9))
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
