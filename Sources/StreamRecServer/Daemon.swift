#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Logging
import StreamRecCore
import Synchronization
import ZeroMQ

/// The running daemon. One event-loop thread owns learning: a `zmq_poll`
/// loop over the PULL (ingest) socket and an inproc REP socket for the
/// queries that change state (`observe`, `snapshot`). A front thread and a
/// pool of query workers (`QueryWorkers`) serve the public REQ/REP endpoint:
/// the front answers light read-only queries itself, the workers the heavy
/// ones in parallel, both under the read side of the engine's lock; the loop
/// checks each ingest message whole under the read side and applies it under
/// the write side, `ingestChunk` events per hold (a message of at most
/// `smallMessageBytes` is checked and applied in one write hold). Snapshots are written
/// on a background thread.
///
/// Lifecycle: `init` restores the newest intact snapshot and binds both
/// sockets; `run` serves until `requestStop()` or SIGINT/SIGTERM, then drains
/// what producers already sent, writes a final snapshot and returns.
public final class Daemon: @unchecked Sendable {
    public let config: DaemonConfig
    /// The endpoints actually bound (a `*` port is resolved).
    public let pullEndpoint: String
    public let repEndpoint: String

    private let logger: Logger
    /// The model and counters: written by the loop, read by query workers.
    private let state: ReadWriteLock<Engine>
    private let store: SnapshotStore
    private let pull: Socket
    /// The loop's end of forwarded queries (inproc REP).
    private let forwarded: Socket
    private var workers: QueryWorkers?
    private var scheduler: SnapshotScheduler
    private var replay: ReplayPacer
    private let log: LogWriter
    /// Held from before restore until `run` returns (see `DataDirectoryLock`).
    private let directoryLock: DataDirectoryLock
    private var rejectLog = RateLimiter<RejectReason>(interval: 1)
    private let stopFlag = Atomic<Bool>(false)
    private let finishedWrite = Locked<Result<SnapshotInfo, Error>?>(nil)
    private let telemetry: Telemetry
    private let metrics: DaemonMetrics
    private let zap: ZAPHandler?
    /// Longest the loop spends draining ingest before it looks at queries
    /// again, so a flood of events cannot starve clients.
    private let ingestBudget = 0.002
    /// When the loop last took ingest; the query front does not spin meanwhile.
    private let ingestActivity = IngestActivity()

    /// `telemetry` receives the metrics and flips to ready at the end of init;
    /// pass the one an HTTP server already shows.
    public init(config: DaemonConfig, logger: Logger, telemetry: Telemetry = Telemetry()) throws {
        try config.model.validate()
        self.config = config
        self.logger = logger
        self.telemetry = telemetry
        metrics = DaemonMetrics(telemetry)
        directoryLock = try DataDirectoryLock(directory: config.dataDirectory)
        store = try SnapshotStore(directory: config.dataDirectory, kept: config.snapshotsKept)

        var model = Model(settings: config.model)
        var restored: SnapshotInfo?
        if let (saved, info) = try store.restoreNewest(upgrade: config.model, warn: { logger.error("\($0)") }) {
            model = saved
            restored = info
            logger.info("restored snapshot", metadata: [
                "path": "\(info.path)", "bytes": "\(info.bytes)", "ms": "\(Self.format(info.milliseconds))",
                "users": "\(model.users.count)", "items": "\(model.items.count)", "events": "\(model.eventsApplied)",
            ])
            if saved.settings != config.model {
                logger.notice("the snapshot's model settings win over the command line's: \(Self.differences(kept: saved.settings, asked: config.model))")
            }
        } else {
            logger.info("no snapshot in \(config.dataDirectory); starting an empty model")
        }
        let position = try Self.replayLog(into: &model, from: restored?.logPosition ?? 0, config: config, logger: logger)
        log = LogWriter(directory: config.dataDirectory, policy: config.fsync, nextSequence: position,
                        segmentBytes: config.logSegmentBytes, now: Clock.monotonic()) { logger.log(level: $0, "\($1)") }
        var engine = Engine(model: model, limits: config.limits, maxMessageBytes: config.maxMessageBytes)
        engine.sharesScans = config.queryThreads >= 2
        engine.lastSnapshot = restored
        engine.journal = log
        state = ReadWriteLock(engine)

        let context = try Context()
        pull = try Socket(context, .pull)
        // The public query endpoint is a ROUTER read by the front thread; REQ
        // clients cannot tell it from a REP socket.
        let frontend = try Socket(context, .router)
        // Messages up to 4x the limit are received and counted as oversized;
        // beyond that libzmq drops the sender's connection before we see them,
        // so a hostile peer cannot make us allocate without bound.
        let hardCap = Int64(config.maxMessageBytes) * 4
        for socket in [pull, frontend] {
            try socket.setOption(SocketOption.maxMessageSize, hardCap)
            try socket.setOption(SocketOption.receiveHighWaterMark, config.receiveHighWaterMark)
            try socket.setOption(SocketOption.linger, Int32(1000))
        }
        zap = try Self.secure(pull: pull, rep: frontend, context: context, config: config, logger: logger)
        try pull.bind(config.pullEndpoint)
        try frontend.bind(config.repEndpoint)
        pullEndpoint = pull.lastEndpoint
        repEndpoint = frontend.lastEndpoint
        forwarded = try Socket(context, .rep)
        try forwarded.bind(QueryWorkers.loopEndpoint)
        scheduler = SnapshotScheduler(interval: config.snapshotInterval, now: Clock.monotonic())
        replay = ReplayPacer(rate: model.reservoir.capacity > 0 ? config.replayRate : 0, passes: config.replayPasses,
                             now: Clock.monotonic())
        logger.info("streamrecd ready", metadata: [
            "pull": "\(pullEndpoint)", "rep": "\(repEndpoint)", "data_dir": "\(config.dataDirectory)",
            "snapshot_interval_s": "\(config.snapshotInterval)", "factors": "\(model.settings.factors)",
            "learning_rate": "\(model.settings.learningRate)", "regularization": "\(model.settings.regularization)",
            "seed": "\(model.settings.seed)", "max_message_bytes": "\(config.maxMessageBytes)",
            "optimizer": "\(model.settings.optimizer)", "negatives": "\(model.settings.negatives)",
            "reservoir": "\(model.settings.reservoirSize)", "replay_rate": "\(replay.rate)", "replay_passes": "\(replay.passes)",
            "curve": "\(config.security.curveEnabled)",
            "fsync": "\(config.fsync.rawValue)", "log_position": "\(position)",
        ])
        let metrics = self.metrics
        workers = try QueryWorkers(context: context, frontend: frontend, count: config.queryThreads,
                                   busyPoll: Double(config.busyPollMicroseconds) / 1e6, ingest: ingestActivity,
                                   failed: { [logger] in logger.critical("\($0)") },
                                   refused: { metrics.recordQuery(op: "invalid", seconds: $0) }) { [state] request, stop in
            let started = Clock.monotonic()
            guard let (reply, op) = state.read({ $0.answer(request, at: stop) }) else { return nil }
            metrics.recordQuery(op: op, seconds: Clock.monotonic() - started)
            return reply.bytes
        }
        telemetry.setReady(true)
        state.read { metrics.update($0, ready: true) }
    }

    /// Recovery: applies the write-ahead log from the snapshot's position,
    /// cutting off a torn tail; returns where the log continues.
    private static func replayLog(into model: inout Model, from position: UInt64, config: DaemonConfig,
                                  logger: Logger) throws -> UInt64 {
        let start = Clock.monotonic()
        let report = try LogRecovery.recover(model: &model, from: position, directory: config.dataDirectory, repair: true)
        for warning in report.warnings { logger.error("\(warning)") }
        logger.info("replayed the write-ahead log", metadata: [
            "from": "\(position)", "to": "\(report.nextSequence)", "records": "\(report.recordsApplied)",
            "events": "\(report.eventsApplied)", "segments": "\(report.segmentsRead)",
            "bytes_truncated": "\(report.bytesTruncated)", "ms": "\(format((Clock.monotonic() - start) * 1000))",
        ])
        return report.nextSequence
    }

    /// Asks `run` to finish; safe from any thread.
    public func requestStop() { stopFlag.store(true, ordering: .relaxed) }

    private var stopping: Bool { stopFlag.load(ordering: .relaxed) || SignalTrap.stopRequested }

    /// Serves until asked to stop, then shuts down cleanly.
    public func run() throws {
        defer { directoryLock.release() }
        var poller = Poller([pull, forwarded])
        while !stopping {
            let now = Clock.monotonic()
            if let action = scheduler.tick(now: now) { try perform(action) }
            let timeout = scheduler.pollTimeout(now: now, idle: min(0.1, replay.idleTimeout(now: now)))
            // While a client waits for its snapshot, the REP socket must not
            // take another request: REP answers strictly in turn. (Workers
            // keep answering read-only queries meanwhile.)
            let ready = try poller.poll(timeoutMilliseconds: Int((timeout * 1000).rounded(.up)),
                                        enabled: [true, !scheduler.clientWaiting])
            let appliedBefore = state.read { $0.counters.applied }
            if ready[0] {
                ingestActivity.mark(now: Clock.monotonic())
                try drainIngest(budget: ingestBudget)
            }
            commitLog()
            if ready[1] { try serveForwarded() }
            try collectFinishedSnapshot()
            let (applied, reservoirCount) = state.read { ($0.counters.applied, $0.model.reservoir.events.count) }
            replay.earn(events: Int(applied - appliedBefore), reservoirCount: reservoirCount)
            let idleEvents = replay.events(now: Clock.monotonic(), inputWaiting: ready[0] || ready[1])
            if idleEvents > 0 { state.write { $0.replay(count: idleEvents) } }
            updateMetrics(ready: true)
        }
        try shutdown()
    }

    /// The group commit of everything logged since the last one (see
    /// `LogWriter`); under `always`, before any query is answered.
    private func commitLog() {
        let now = Clock.monotonic()
        log.commit(now: now)
        if log.takeSnapshotRequest() {
            logger.warning("the log had trouble and may have lost records (dropped_records in stats says how many were dropped); taking a snapshot so the data directory holds everything again")
            scheduler.expedite(now: now)
        }
    }

    /// Events applied per hold of the write lock. A 1,000-event binary frame
    /// takes ~0.85 ms to learn in one hold; 64 events (~55 µs) bound how
    /// long a query waits for ingest, at the price of one more lock round
    /// trip and one `sched_yield` per 64 events.
    static let ingestChunk = 64

    /// Messages up to this size (one JSON event is ~60 bytes) are checked and
    /// applied in one write-lock hold: they apply in one chunk anyway, and
    /// the separate read-locked check cost one-event messages ~12 % of their
    /// rate.
    static let smallMessageBytes = 512

    private func drainIngest(budget: Double) throws {
        let deadline = Clock.monotonic() + budget
        repeat {
            let received = try pull.receiveWhole(dontWait: true) { message -> Rejection? in
                if message.count <= Self.smallMessageBytes { return state.write { $0.ingest(message) } }
                // Checked (and decoded) whole under the read lock, in parallel
                // with queries; then applied a chunk per write-lock hold: a
                // bad message applies nothing, and a query waits for at most
                // one chunk, not the whole message.
                switch state.read({ $0.check(message) }) {
                case .failure(let rejection):
                    state.write { $0.countRejected(rejection) }
                    return rejection
                case .success(var pending):
                    while true {
                        state.write { $0.apply(&pending, upTo: Self.ingestChunk) }
                        if pending.isDone { return nil }
                        // Between chunks, a query worker woken on this core
                        // waits for the loop to give it up; without the yield
                        // the scheduler lets the loop run through the frame,
                        // and the lock release alone did not move top-10 p99
                        // under ingest (bench --serving, docs/BENCHMARKS.md).
                        // Not after the last chunk: a yield per message cost
                        // one-event JSON messages ~40 % of their rate. (Nor
                        // only while a worker is answering: a worker is not
                        // answering until it gets the core, and with that
                        // condition p99 under ingest went back to 2.8–4.8 ×
                        // idle.)
                        sched_yield()
                    }
                }
            }
            let rejection: Rejection?
            switch received {
            case nil: return  // nothing left
            case .frame(let refused)?: rejection = refused
            case .multipart(let frames)?:
                // Counted as one event, as a message that cannot be decoded is.
                let refused = Rejection(.multipart, "a message of \(frames) frames; send each message as one frame")
                state.write { $0.countRejected(refused) }
                rejection = refused
            }
            if let rejection { logRejection(rejection) }
        } while Clock.monotonic() < deadline
    }

    private func logRejection(_ rejection: Rejection) {
        guard let suppressed = rejectLog.allow(rejection.reason, now: Clock.monotonic()) else { return }
        let tail = suppressed > 0 ? " (\(suppressed) similar messages not logged in the last second)" : ""
        logger.warning("dropped \(rejection.events) event(s), \(rejection.reason.rawValue): \(rejection.detail)\(tail)")
    }

    /// Metrics are brought up to date at most every 50 ms: often enough for
    /// a scrape, rare enough to stay off the ingest path.
    private var metricsUpdatedAt = 0.0

    private func updateMetrics(ready: Bool) {
        let now = Clock.monotonic()
        guard now - metricsUpdatedAt >= 0.05 || !ready else { return }
        metricsUpdatedAt = now
        state.read { metrics.update($0, ready: ready) }
    }

    /// A query a worker forwarded because it changes state (`observe`, `snapshot`).
    private func serveForwarded() throws {
        let started = Clock.monotonic()
        guard let (outcome, op) = try forwarded.receive(dontWait: true, { request in
            state.write { engine in (engine.query(request), engine.lastQueryOp) }
        }) else { return }
        defer { metrics.recordQuery(op: op, seconds: Clock.monotonic() - started) }
        switch outcome {
        case .reply(let json):
            try forwarded.send(json.bytes)
        case .snapshot:
            if let action = scheduler.requested() { try perform(action) }
        }
    }

    private func perform(_ action: SnapshotScheduler.Action) throws {
        switch action {
        case .start:
            // The copy is O(1): the model is made of Swift arrays, and the
            // loop's next write copies whatever it touches. The background
            // thread serializes and writes the frozen state.
            let frozen = state.read { $0.model }
            let position = log.nextSequence
            let store = self.store
            DispatchQueue.global().async { [self] in
                let result = Result { try store.write(frozen, logPosition: position) }
                finishedWrite.withLock { $0 = result }
            }
        case .reply(let succeeded):
            try forwarded.send(state.read { $0.snapshotReply(succeeded: succeeded) }.bytes)
        }
    }

    private func collectFinishedSnapshot() throws {
        guard let result = finishedWrite.withLock({ slot -> Result<SnapshotInfo, Error>? in
            defer { slot = nil }
            return slot
        }) else { return }
        switch result {
        case .success(let info):
            state.write {
                $0.lastSnapshot = info
                $0.lastSnapshotError = nil
            }
            logger.info("snapshot written", metadata: [
                "path": "\(info.path)", "bytes": "\(info.bytes)", "ms": "\(Self.format(info.milliseconds))",
                "log_position": "\(info.logPosition)",
            ])
            if let oldest = store.oldestKeptLogPosition() { log.prune(before: oldest) }
        case .failure(let error):
            state.write { $0.lastSnapshotError = "\(error)" }
            logger.error("snapshot failed, will retry at the next interval: \(error)")
        }
        let succeeded = if case .success = result { true } else { false }
        if let action = scheduler.finished(succeeded: succeeded, now: Clock.monotonic()) { try perform(action) }
    }

    /// Stops taking events, applies what producers already sent (for at most
    /// `shutdownTimeout` seconds), finishes any snapshot under way, and writes the final one.
    private func shutdown() throws {
        telemetry.setReady(false)
        logger.info("stopping: applying queued events and writing the final snapshot")
        workers?.stop()
        // Unbinding closes the producers' connections, so the queue can only
        // shrink; what they already delivered stays readable.
        try? pull.unbind(pullEndpoint)
        let deadline = Clock.monotonic() + config.shutdownTimeout
        var drained = 0
        while try pull.receive(dontWait: true, { message -> Void in
            if let rejection = state.write({ $0.ingest(message) }) { logRejection(rejection) }
        }) != nil {
            drained += 1
            guard Clock.monotonic() < deadline else {
                logger.warning("shutdown-timeout of \(config.shutdownTimeout) s reached; events still queued are not applied")
                break
            }
        }
        while scheduler.inFlight {
            usleep(2000)
            try collectFinishedSnapshot()
        }
        log.close(now: Clock.monotonic())
        do {
            let (model, applied) = state.read { ($0.model, $0.counters.applied) }
            let info = try store.write(model, logPosition: log.nextSequence)
            state.write { $0.lastSnapshot = info }
            logger.info("final snapshot written", metadata: [
                "path": "\(info.path)", "bytes": "\(info.bytes)", "ms": "\(Self.format(info.milliseconds))",
                "events_applied": "\(applied)", "drained_messages": "\(drained)",
            ])
            updateMetrics(ready: false)
            if let oldest = store.oldestKeptLogPosition() { log.prune(before: oldest) }
        } catch {
            if let logError = log.lastError {
                logger.critical("final snapshot failed: \(error); the write-ahead log is failing too (\(logError)), so events since the last snapshot that it could not write are lost")
            } else {
                logger.critical("final snapshot failed: \(error); the write-ahead log still holds the events since the last one")
            }
            throw error
        }
    }

    /// The settings that differ, as `flag kept (asked asked)`, e.g.
    /// "factors 32 (asked 16)": the flag names come from the field names.
    static func differences(kept: ModelSettings, asked: ModelSettings) -> String {
        let askedValues = Dictionary(Mirror(reflecting: asked).children.compactMap { child in child.label.map { ($0, "\(child.value)") } },
                                     uniquingKeysWith: { a, _ in a })
        let lines = Mirror(reflecting: kept).children.compactMap { child -> String? in
            guard let label = child.label, let other = askedValues[label], other != "\(child.value)" else { return nil }
            let flag = label.reduce(into: "") { name, c in name += c.isUppercase ? "-" + c.lowercased() : String(c) }
            return "\(flag) \(child.value) (asked \(other))"
        }
        return lines.isEmpty ? "none differ" : lines.joined(separator: ", ")
    }

    static func format(_ milliseconds: Double) -> String {
        String(Double(Int(milliseconds * 10)) / 10)
    }
}
