import Logging
import StreamRecCore

/// Everything `streamrecd` can be told, with the defaults it runs on.
///
/// Filled by `ConfigLoader` (defaults < config file < environment) and then
/// command-line flags in the executable; tests build one directly. Every
/// user-facing field has a key in `DaemonConfig.keys`.
public struct DaemonConfig: Sendable {
    /// Where producers PUSH rating events (PULL socket, bound).
    public var pullEndpoint = "tcp://127.0.0.1:5555"
    /// Where clients send queries (REP socket, bound).
    public var repEndpoint = "tcp://127.0.0.1:5556"
    /// Directory for snapshots and the write-ahead log; created when missing,
    /// locked while a daemon runs (`DataDirectoryLock`).
    public var dataDirectory = "./data"
    /// Seconds between timed snapshots; 0 turns the timer off (snapshots are
    /// still taken on the `snapshot` op and at shutdown).
    public var snapshotInterval: Double = 60
    /// When the write-ahead log is forced to disk (see `FsyncPolicy`).
    public var fsync = FsyncPolicy.everysec
    /// Size at which a log segment is closed and the next one started.
    public var logSegmentBytes = 64 << 20
    /// Snapshots kept on disk; older ones are deleted after each write.
    public var snapshotsKept = 2
    /// Events per second replayed from the reservoir while both sockets are
    /// idle; 0 turns background replay off.
    public var replayRate: Double = 100_000
    /// Replays each fresh event earns; a quiet daemon stops replaying once
    /// they are spent (3 passes: best holdout RMSE in docs/EVALUATION.md).
    public var replayPasses: Double = 3
    /// Threads answering heavy read-only queries in parallel with ingest
    /// (light ones are answered by the front thread; see `QueryRoute`).
    /// With 1, a query uses one core (no scan sharing, `Engine.sharesScans`).
    public var queryThreads = 2
    /// Microseconds the query front keeps polling without sleeping after
    /// answering a query itself, so that a query arriving soon after finds
    /// it awake and its caches warm; 0 sleeps at once (see `QueryFront.run`).
    public var busyPollMicroseconds = 200
    /// Shape of a new model. A restored snapshot brings its own settings.
    public var model = ModelSettings()
    /// Larger messages are dropped and counted as `oversized`.
    public var maxMessageBytes = 1 << 20
    /// Longest user or item ID accepted, in UTF-8 bytes.
    public var maxIDBytes = 256
    /// Largest |rating| accepted; a stray 1e30 would wreck the model.
    public var maxAbsRating: Float = 1e6
    /// Messages libzmq queues per socket before producers block (ZMQ_RCVHWM):
    /// with `maxMessageBytes` it bounds what a flood can make the daemon hold.
    public var receiveHighWaterMark: Int32 = 1000
    /// `host:port` serving /metrics and /health/*; nil turns HTTP off.
    public var metricsAddress: String? = "127.0.0.1:9464"
    /// CURVE encryption and allow-lists; off (plaintext) by default.
    public var security = SecurityConfig()
    /// Longest the shutdown spends applying queued events before the final snapshot.
    public var shutdownTimeout: Double = 10
    public var logLevel = Logger.Level.info
    public var logFormat = LogFormat.text

    public init() {}

    /// Throws, naming the setting, when a value is out of range.
    public func validate() throws {
        func check(_ ok: Bool, _ why: String) throws { if !ok { throw DaemonError(why) } }
        try check(snapshotInterval >= 0, "snapshot-interval must be >= 0")
        try check(shutdownTimeout > 0, "shutdown-timeout must be > 0")
        try check(maxMessageBytes >= 64, "max-message-bytes must be at least 64")
        try check((1...SnapshotFormat.maxTextIDBytes).contains(maxIDBytes), "max-id-bytes must be 1...\(SnapshotFormat.maxTextIDBytes)")
        try check(maxAbsRating > 0 && maxAbsRating.isFinite, "max-abs-rating must be a positive number")
        try check(replayRate >= 0, "replay-rate must be >= 0")
        try check(replayPasses >= 0, "replay-passes must be >= 0")
        try check((1...64).contains(queryThreads), "query-threads must be 1...64")
        try check((0...1_000_000).contains(busyPollMicroseconds), "busy-poll must be 0...1000000 microseconds")
        for (name, endpoint) in [("pull", pullEndpoint), ("rep", repEndpoint)] {
            try check(endpoint.contains("://"), "\(name) must be a ZeroMQ endpoint such as tcp://127.0.0.1:5555 (got \(endpoint))")
        }
        if let metricsAddress { _ = try MetricsAddress(metricsAddress) }
        do { try model.validate() } catch { throw DaemonError("\(error)") }
    }

    /// The rules events are checked against.
    public var limits: EventLimits {
        EventLimits(maxIDBytes: maxIDBytes, maxAbsRating: maxAbsRating)
    }
}
