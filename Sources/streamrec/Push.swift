import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StreamRecCore
import StreamRecServer
import ZeroMQ

struct Push: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send a file of ratings to the daemon's ingest socket.",
        discussion: """
        FILE holds one rating per line, `user item rating [timestamp]`, separated by tabs, commas \
        or spaces; it may be gzip-compressed. Events go out as messages of --batch events, JSON arrays \
        or binary frames (--format, see docs/PROTOCOL.md). \
        Unless --no-wait is given, push then waits until the daemon has taken every event \
        (applied or rejected) and reports the rate end to end. It exits 1 when the daemon \
        rejected any event (a message with a bad event is dropped whole; --batch 1 drops only \
        the bad ones), when a line cannot be read (push stops there, and says how many events \
        went out: whole messages, so the good lines of the message it would have joined are \
        not sent), or when nothing is taken for --timeout seconds. \
        The wait asks the query socket (--rep) for `stats`: with CURVE, a producer key that is \
        not also on the daemon's client-keys needs --no-wait.
        """
    )

    @Argument(help: "Ratings file (.tsv, .csv, plain or .gz).") var file: String
    @Option(help: ArgumentHelp("The daemon's ingest endpoint ($STREAMREC_PULL when set).", valueName: "endpoint"))
    var pull = DefaultEndpoint.pull
    @Option(parsing: .unconditional, help: "Events per message (1-10000).") var batch = 500
    @Option(help: "Message encoding: json (arrays) or binary (frames).") var format = WireFormat.json
    @Flag(help: "Return as soon as the events are handed to ZeroMQ.") var noWait = false
    @OptionGroup var options: QueryOptions

    func validate() throws {
        guard (1...10_000).contains(batch) else { throw ValidationError("--batch must be 1...10000") }
    }

    func run() throws {
        let context = try Context()
        let stats = noWait ? nil : try options.client(context: context)
        let before: IngestTally?
        do {
            before = try stats.map { try IngestTally($0) }
        } catch let error as DaemonError where options.serverKey != nil {
            // The usual cause under CURVE: a producer key the daemon refuses on its query socket.
            throw DaemonError("\(error) (push asks the query socket for stats to wait for its events; "
                + "a key on the daemon's producer-keys only is refused there: give --no-wait, "
                + "or a key on client-keys too)")
        }

        let socket = try Socket(context, .push)
        try socket.setOption(SocketOption.sendTimeout, Int32(options.timeout * 1000))
        try socket.setOption(SocketOption.linger, Int32(-1))
        // Messages queue only on a connection made, so a wrong --pull (or no
        // daemon) times the first send out instead of queueing forever.
        try socket.setOption(SocketOption.immediate, Int32(1))
        try options.curve()?.apply(to: socket)
        try socket.connect(pull)

        let reader = try RatingFile(path: file)
        var progress = ProgressBar(total: fileSize(file))
        var pending: [RatingEvent] = []
        pending.reserveCapacity(batch)
        var sent = 0
        let start = Clock.monotonic()

        func flush() throws {
            guard !pending.isEmpty else { return }
            let message = format == .json ? EventEncoder.jsonBatch(pending) : BinaryFrame.encode(pending)
            guard try socket.send(message) else {
                throw DaemonError("the daemon at \(pull) took nothing for \(options.timeout) s: is streamrecd running, "
                    + "and is that its ingest endpoint (--pull)?")
            }
            sent += pending.count
            pending.removeAll(keepingCapacity: true)
            progress.update(done: reader.compressedOffset, events: sent, elapsed: Clock.monotonic() - start)
        }
        do {
            try reader.forEach { event in
                pending.append(event)
                if pending.count == batch { try flush() }
            }
        } catch let error as DaemonError {
            throw error
        } catch {
            progress.finish()
            throw DaemonError("\(error); stopped there: the first \(sent) events were sent, the rest were not")
        }
        try flush()

        func report(_ taken: String) {
            let elapsed = Clock.monotonic() - start
            progress.finish()
            print("pushed \(sent) events in \(String(format: elapsed)) s: \(Int(Double(sent) / max(elapsed, 1e-9))) events/s\(taken)")
        }
        guard let stats, let before else { return report(" (handed to ZeroMQ, not waited for)") }
        let tally = try waitUntilTaken(sent, stats: stats, since: before)
        let rejected = tally.rejected - before.rejected
        report(", all taken by the daemon" + (rejected > 0 ? "; \(rejected) rejected" : ""))
        if rejected > 0 {
            let reasons = tally.byReason.compactMap { reason, count -> String? in
                let new = count - (before.byReason[reason] ?? 0)
                return new > 0 ? "\(new) \(reason)" : nil
            }
            // A message with one bad event is rejected whole (docs/PROTOCOL.md), so good events can go with it.
            throw DaemonError("the daemon rejected \(rejected) of the \(sent) events (\(reasons.sorted().joined(separator: ", "))): "
                + "a message with a bad event is dropped whole; its log says which; --batch 1 drops only the bad ones")
        }
    }

    /// Polls `stats` until the daemon has received `sent` more events than
    /// at `before`; fails when that count stops moving for --timeout seconds.
    private func waitUntilTaken(_ sent: Int, stats: QueryClient, since before: IngestTally) throws -> IngestTally {
        var last = before
        var movedAt = Clock.monotonic()
        while true {
            let now = try IngestTally(stats)
            if now.received >= before.received + UInt64(sent) { return now }
            if now.received != last.received { movedAt = Clock.monotonic() }
            last = now
            guard Clock.monotonic() - movedAt < max(options.timeout, 1) else {
                throw DaemonError("the daemon at \(options.rep) has taken \(now.received - before.received) of the \(sent) "
                    + "events and no more for \(options.timeout) s: is \(pull) the ingest endpoint of that daemon?")
            }
            usleep(20_000)
        }
    }
}

/// How `push` encodes its batches.
enum WireFormat: String, ExpressibleByArgument {
    case json, binary
}

extension String {
    /// Seconds with two decimals.
    init(format seconds: Double) {
        self = String(Double(Int(seconds * 100)) / 100)
    }
}
