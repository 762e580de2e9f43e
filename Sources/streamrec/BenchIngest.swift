#if canImport(Glibc)
import Glibc
#endif
import StreamRecCore
import StreamRecServer
import ZeroMQ

/// How the bench packs events into ingest messages.
enum IngestShape: String, CaseIterable {
    case binary = "binary batches"
    case jsonArray = "JSON arrays"
    case json = "JSON, one event per message"

    /// The messages for `events`, encoded before the clock starts so the
    /// timed loop is sends only.
    func messages(_ events: [RatingEvent], batch: Int) -> [[UInt8]] {
        if self == .json { return events.map { EventEncoder.json($0).bytes } }
        return stride(from: 0, to: events.count, by: batch).map { start in
            let slice = Array(events[start ..< min(start + batch, events.count)])
            return self == .binary ? BinaryFrame.encode(slice) : EventEncoder.jsonBatch(slice)
        }
    }
}

/// Pushes prepared messages at full speed and times how long the daemon takes
/// to have received (applied or rejected) every event in them.
struct IngestRun {
    let pull: String
    let stats: QueryClient
    let context: Context

    /// Events per second from the first send until `stats` counts them all;
    /// throws when any of them was rejected.
    func eventsPerSecond(_ messages: [[UInt8]], events: Int) throws -> Double {
        let before = try IngestTally(stats)
        let socket = try Socket(context, .push)
        try socket.setOption(SocketOption.linger, Int32(-1))
        try socket.connect(pull)
        let start = Clock.monotonic()
        for message in messages { try socket.send(message) }
        var now = try IngestTally(stats)
        while now.received < before.received + UInt64(events) {
            usleep(1000)
            now = try IngestTally(stats)
        }
        let seconds = Clock.monotonic() - start
        let rejected = now.rejected - before.rejected
        guard rejected == 0 else { throw DaemonError("the daemon rejected \(rejected) events") }
        return Double(events) / seconds
    }

    /// Waits until the daemon has taken every message queued for it:
    /// `events_received` unchanged over three polls 20 ms apart. Throws after
    /// two minutes of movement (another producer is pushing to it).
    ///
    /// A producer that pushed flat out (`BackgroundIngest`) leaves up to a
    /// high-water mark of messages queued when it stops, seconds of learning
    /// at 1,000 events a message. Measuring the next figure (zmq-floor's
    /// round trip above all, which gets faster while another core is busy)
    /// before they drain would compare a loaded machine with an idle one.
    func settle() throws {
        var last = try IngestTally(stats).received, unchanged = 0
        let deadline = Clock.monotonic() + 120
        while unchanged < 3 {
            guard Clock.monotonic() < deadline else {
                throw DaemonError("the daemon is still receiving events after 120 s: is another producer pushing to \(pull)?")
            }
            usleep(20_000)
            let now = try IngestTally(stats).received
            unchanged = now == last ? unchanged + 1 : 0
            last = now
        }
    }
}
