import ArgumentParser
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
        `snapshot` query and at shutdown (SIGINT/SIGTERM), and restored from there on start.

        An event (or a JSON array of them):  {"user": 1, "item": 42, "rating": 8}
        A query:                             {"op": "top", "user": 1, "n": 10}

        Try it with the client:  streamrec push ratings.tsv && streamrec top 1
        Full protocol: docs/PROTOCOL.md. A second SIGINT/SIGTERM exits at once, \
        without a final snapshot.
        """
    )

    @Option(help: ArgumentHelp("ZeroMQ endpoint to bind for rating events (PULL).", valueName: "endpoint"))
    var pull = DaemonConfig().pullEndpoint

    @Option(help: ArgumentHelp("ZeroMQ endpoint to bind for queries (REP).", valueName: "endpoint"))
    var rep = DaemonConfig().repEndpoint

    @Option(help: ArgumentHelp("Directory for snapshots; created if missing.", valueName: "dir"))
    var dataDir = DaemonConfig().dataDirectory

    @Option(help: ArgumentHelp("Seconds between automatic snapshots; 0 turns the timer off.", valueName: "seconds"))
    var snapshotInterval = DaemonConfig().snapshotInterval

    @Option(help: ArgumentHelp("Events per second relearned from the reservoir while idle; 0 = off.", valueName: "events"))
    var replayRate = DaemonConfig().replayRate

    @Option(help: ArgumentHelp("Replays each fresh event earns; replay stops once they are spent.", valueName: "passes"))
    var replayPasses = DaemonConfig().replayPasses

    @OptionGroup(title: "Model (for a new model; a restored snapshot keeps its own)")
    var model: ModelOptions

    @Option(help: ArgumentHelp("Messages larger than this are dropped and counted as oversized.", valueName: "bytes"))
    var maxMessageBytes = DaemonConfig().maxMessageBytes

    @Option(help: ArgumentHelp("Longest user or item ID accepted, in UTF-8 bytes.", valueName: "bytes"))
    var maxIdBytes = DaemonConfig().maxIDBytes

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("unknown --log-level \(logLevel)")
        }
        guard snapshotInterval >= 0 else { throw ValidationError("--snapshot-interval must be >= 0") }
        guard maxMessageBytes >= 64 else { throw ValidationError("--max-message-bytes must be at least 64") }
        guard (1...SnapshotFormat.maxTextIDBytes).contains(maxIdBytes) else {
            throw ValidationError("--max-id-bytes must be 1...\(SnapshotFormat.maxTextIDBytes)")
        }
        guard replayRate >= 0 else { throw ValidationError("--replay-rate must be >= 0") }
        guard replayPasses >= 0 else { throw ValidationError("--replay-passes must be >= 0") }
    }

    func run() throws {
        let level = Logger.Level(rawValue: logLevel)!
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "streamrecd")
        var config = DaemonConfig()
        config.pullEndpoint = pull
        config.repEndpoint = rep
        config.dataDirectory = dataDir
        config.snapshotInterval = snapshotInterval
        config.model = model.settings
        config.replayRate = replayRate
        config.replayPasses = replayPasses
        config.maxMessageBytes = maxMessageBytes
        config.maxIDBytes = maxIdBytes
        do {
            SignalTrap.install()
            let daemon = try Daemon(config: config, logger: logger)
            try daemon.run()
            logger.info("stopped")
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
    }
}

StreamRecDaemon.main()
