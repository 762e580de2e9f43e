import Prometheus
import Synchronization

/// What the daemon shows operators over HTTP, shared between the event loop
/// (which writes it) and the HTTP server's threads (which read it).
///
/// Only thread-safe pieces live here: the Prometheus registry and the
/// readiness flag. The loop's own metric handles are in `DaemonMetrics`, so
/// the model is never touched off the loop thread.
public final class Telemetry: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let readyFlag = Atomic<Bool>(false)

    public init() {}

    /// True once the snapshot is restored and both sockets are bound, until shutdown begins.
    public var isReady: Bool { readyFlag.load(ordering: .acquiring) }

    func setReady(_ ready: Bool) { readyFlag.store(ready, ordering: .releasing) }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}
