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
        (applied or rejected) and reports the rate end to end.
        """
    )

    @Argument(help: "Ratings file (.tsv, .csv, plain or .gz).") var file: String
    @Option(help: ArgumentHelp("The daemon's ingest endpoint.", valueName: "endpoint"))
    var pull = "tcp://127.0.0.1:5555"
    @Option(help: "Events per message (1-10000).") var batch = 500
    @Option(help: "Message encoding: json (arrays) or binary (frames).") var format = WireFormat.json
    @Flag(help: "Return as soon as the events are handed to ZeroMQ.") var noWait = false
    @OptionGroup var options: QueryOptions

    func validate() throws {
        guard (1...10_000).contains(batch) else { throw ValidationError("--batch must be 1...10000") }
    }

    func run() throws {
        let context = try Context()
        let stats = noWait ? nil : try options.client(context: context)
        let before = try stats.map { try receivedCount($0) }

        let socket = try Socket(context, .push)
        try socket.setOption(SocketOption.sendTimeout, Int32(options.timeout * 1000))
        try socket.setOption(SocketOption.linger, Int32(-1))
        try options.curve()?.apply(to: socket)
        try socket.connect(pull)

        let reader = try RatingFile(path: file)
        let totalBytes = fileSize(file)
        var progress = ProgressBar(total: totalBytes)
        var pending: [RatingEvent] = []
        pending.reserveCapacity(batch)
        var sent = 0
        let start = Clock.monotonic()

        func flush() throws {
            guard !pending.isEmpty else { return }
            let message = format == .json ? EventEncoder.jsonBatch(pending) : BinaryFrame.encode(pending)
            guard try socket.send(message) else {
                throw DaemonError("the daemon at \(pull) took nothing for \(options.timeout)s: is streamrecd running?")
            }
            sent += pending.count
            pending.removeAll(keepingCapacity: true)
            progress.update(done: reader.compressedOffset, events: sent, elapsed: Clock.monotonic() - start)
        }
        try reader.forEach { event in
            pending.append(event)
            if pending.count == batch { try flush() }
        }
        try flush()

        var takenLine = ""
        if let stats, let before {
            while try receivedCount(stats) < before + UInt64(sent) {
                guard Clock.monotonic() - start < 3600 else { break }
                usleep(20_000)
            }
            takenLine = ", all taken by the daemon"
        }
        let elapsed = Clock.monotonic() - start
        progress.finish()
        print("pushed \(sent) events in \(String(format: elapsed)) s: \(Int(Double(sent) / max(elapsed, 1e-9))) events/s\(takenLine)")
    }

    private func receivedCount(_ client: QueryClient) throws -> UInt64 {
        let reply = try client.request(.object([("op", .string("stats"))]))
        guard let received = reply["events_received"]?.double else {
            throw DaemonError("unexpected stats reply: \(reply.text)")
        }
        return UInt64(received)
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
