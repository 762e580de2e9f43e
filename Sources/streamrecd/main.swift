import ArgumentParser
import Foundation
import Logging
import StreamRecCore
import StreamRecServer

/// `streamrecd`: parses flags into a `DaemonConfig` and runs the daemon.
struct StreamRecDaemon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "streamrecd",
        abstract: "A recommendation daemon that learns from every rating as it arrives.",
        discussion: """
        Producers PUSH rating events to the ingest socket; each one updates a matrix-factorization \
        model at once. Clients ask the query socket (REQ/REP, JSON) for predicted ratings, a user's \
        top-N items or the popular items. The model is snapshotted to --data-dir on a timer, on the \
        `snapshot` query and at shutdown (SIGINT/SIGTERM), and restored from there on start. \
        Every accepted event is also appended to a write-ahead log in --data-dir (fsynced as \
        --fsync says); on start the log is replayed from the snapshot's position, so a crash \
        loses at most what the fsync policy allows (docs/DURABILITY.md).

        An event (or a JSON array of them):  {"user": 1, "item": 42, "rating": 8}
        A query:                             {"op": "top", "user": 1, "n": 10}

        Try it with the client:  streamrec push ratings.tsv && streamrec top 1
        Settings come from built-in defaults, then the YAML file given by --config (or \
        $STREAMREC_CONFIG), then STREAMREC_* environment variables (STREAMREC_DATA_DIR for \
        --data-dir, and so on), then flags; each flag's name is also its config-file key. \
        --print-config shows the result.

        Full protocol: docs/PROTOCOL.md. On SIGTERM the daemon stops taking events, applies \
        those already received (for at most --shutdown-timeout seconds), writes a final \
        snapshot and exits 0; a second SIGINT/SIGTERM (more than 0.1 s later) exits at once, \
        without a final snapshot.
        """
    )

    @Option(help: ArgumentHelp("YAML config file (default: $STREAMREC_CONFIG, else none).", valueName: "file"))
    var config: String?

    @Flag(help: "Print the effective config (defaults < file < environment < flags) as YAML and exit.")
    var printConfig = false

    @Option(help: ArgumentHelp("ZeroMQ endpoint to bind for rating events (PULL). Default tcp://127.0.0.1:5555.", valueName: "endpoint"))
    var pull: String?

    @Option(help: ArgumentHelp("ZeroMQ endpoint to bind for queries (REP). Default tcp://127.0.0.1:5556.", valueName: "endpoint"))
    var rep: String?

    @Option(help: ArgumentHelp("Directory for snapshots and the write-ahead log; created if missing, locked while the daemon runs. Default ./data.", valueName: "dir"))
    var dataDir: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds between automatic snapshots; 0 turns the timer off. Default 60.", valueName: "seconds"))
    var snapshotInterval: Double?

    @Option(help: ArgumentHelp("When the write-ahead log is fsynced: always (before every reply), everysec or no. Default everysec.",
                               valueName: "policy"))
    var fsync: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Longest the shutdown spends applying queued events before the final snapshot. Default 10.", valueName: "seconds"))
    var shutdownTimeout: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("Events per second relearned from the reservoir while idle; 0 = off. Default 100000.", valueName: "events"))
    var replayRate: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("Replays each fresh event earns; replay stops once they are spent. Default 3.", valueName: "passes"))
    var replayPasses: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("Threads answering heavy read-only queries (top, similar, popular over large catalogues) in parallel with ingest; light ones are answered by the front thread. From 2, a long top-N scan may use two cores; with 1, a query uses one, leaving the other to ingest. Default 2.", valueName: "n"))
    var queryThreads: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("After answering a query itself, the query front keeps polling this long before it sleeps, so the next query finds it awake with warm caches (much faster in a VM); not while workers or ingest need the cores; costs up to that much CPU per query when queries are sparse, nothing when idle. 0 = sleep at once. Default 200.", valueName: "microseconds"))
    var busyPoll: Int?

    @OptionGroup(title: "Model (for a new model; a restored snapshot keeps its own)")
    var model: ModelOptions

    @Option(parsing: .unconditional, help: ArgumentHelp("Messages larger than this are dropped and counted as oversized. Default 1048576.", valueName: "bytes"))
    var maxMessageBytes: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Longest user or item ID accepted, in UTF-8 bytes. Default 256.", valueName: "bytes"))
    var maxIdBytes: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Ratings beyond ±this are rejected (bad_rating); set your scale's top, e.g. 10, to keep a stray value out of the model. Default 1000000.", valueName: "rating"))
    var maxAbsRating: Float?

    @Option(help: ArgumentHelp("HTTP address for /metrics, /health/live and /health/ready, or 'off'. Default 127.0.0.1:9464.", valueName: "host:port"))
    var metrics: String?

    @Option(help: ArgumentHelp("Turns CURVE on: the server's secret key (Z85) or a file holding it (streamrec keygen).", valueName: "key|file"))
    var curveSecretKey: String?

    @Option(help: ArgumentHelp("With CURVE: public keys allowed to push, comma-separated, each a key or a file of keys.", valueName: "keys"))
    var producerKeys: String?

    @Option(help: ArgumentHelp("With CURVE: public keys allowed to query, comma-separated, each a key or a file of keys.", valueName: "keys"))
    var clientKeys: String?

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error or critical. Default info.", valueName: "level"))
    var logLevel: String?

    @Option(help: ArgumentHelp("Log lines as text or json (one JSON object per line). Default text.", valueName: "format"))
    var logFormat: String?

    /// The effective config: file and environment through `ConfigLoader`, then the flags given.
    func effectiveConfig() throws -> DaemonConfig {
        let environment = ProcessInfo.processInfo.environment
        var config = try ConfigLoader.load(file: self.config ?? environment[ConfigLoader.fileVariable], environment: environment)
        let flags: [(String, String?)] = [
            ("pull", pull), ("rep", rep), ("data-dir", dataDir), ("snapshot-interval", snapshotInterval.map { "\($0)" }), ("fsync", fsync),
            ("shutdown-timeout", shutdownTimeout.map { "\($0)" }), ("replay-rate", replayRate.map { "\($0)" }),
            ("replay-passes", replayPasses.map { "\($0)" }), ("query-threads", queryThreads.map { "\($0)" }),
            ("busy-poll", busyPoll.map { "\($0)" }),
            ("max-message-bytes", maxMessageBytes.map { "\($0)" }),
            ("max-id-bytes", maxIdBytes.map { "\($0)" }), ("max-abs-rating", maxAbsRating.map { "\($0)" }), ("metrics", metrics), ("curve-secret-key", curveSecretKey),
            ("producer-keys", producerKeys), ("client-keys", clientKeys), ("log-level", logLevel), ("log-format", logFormat),
        ]
        try ConfigLoader.apply(flags.compactMap { name, value in value.map { (name, .scalar($0)) } }, to: &config, source: "flags")
        config.model = model.settings(over: config.model)
        try config.validate()
        return config
    }

    func run() throws {
        ProcessMemory.returnLargeFreesToTheSystem()
        let config: DaemonConfig
        do { config = try effectiveConfig() } catch { throw ValidationError("\(error)") }
        if printConfig {
            print(config.rendered, terminator: "")
            return
        }
        LoggingSystem.bootstrap { config.logFormat.handler(label: $0, level: config.logLevel) }
        let logger = Logger(label: "streamrecd")
        var server: MetricsHTTPServer?
        do {
            SignalTrap.install()
            let telemetry = Telemetry()
            if let address = try config.metricsAddress.map(MetricsAddress.init) {
                server = try MetricsHTTPServer(host: address.host, port: address.port, telemetry: telemetry)
                logger.info("serving /metrics, /health/live and /health/ready on http://\(server!.address)")
            }
            let daemon = try Daemon(config: config, logger: logger, telemetry: telemetry)
            try daemon.run()
            server?.shutdown()
            logger.info("stopped")
        } catch {
            server?.shutdown()
            logger.critical("\(error)")
            throw ExitCode(1)
        }
    }
}

StreamRecDaemon.main()
