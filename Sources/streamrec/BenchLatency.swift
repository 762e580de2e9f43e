#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Histogram
import StreamRecCore
import StreamRecServer
import Synchronization
import ZeroMQ

/// Round-trip latency of one kind of query, as an HdrHistogram in nanoseconds.
struct LatencyRun {
    let client: QueryClient

    /// Sends every request in turn (cycling) `count` times and records each
    /// round trip; with `expectOK`, fails on any reply that is not `ok:true`.
    func measure(_ requests: [[UInt8]], count: Int, expectOK: Bool = true) throws -> Histogram<UInt64> {
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        for n in 0..<count {
            let start = Clock.monotonic()
            let reply = try client.requestBytes(requests[n % requests.count])
            histogram.record(UInt64((Clock.monotonic() - start) * 1e9))
            guard !expectOK || reply.starts(with: Array(#"{"ok":true"#.utf8)) else {
                throw DaemonError("query failed: \(String(decoding: reply, as: UTF8.self))")
            }
        }
        return histogram
    }
}

/// A producer pushing binary batches in a loop on another thread, to measure
/// queries while the daemon ingests: at full speed, or paced to
/// `messagesPerSecond`.
final class BackgroundIngest: @unchecked Sendable {
    private let stop = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    init(pull: String, messages: [[UInt8]], messagesPerSecond: Double? = nil) throws {
        let socket = try Socket(Context(), .push)
        try socket.setOption(SocketOption.linger, Int32(0))
        try socket.setOption(SocketOption.sendTimeout, Int32(100))
        try socket.connect(pull)
        DispatchQueue.global().async { [self] in
            var n = 0
            let start = Clock.monotonic()
            while !stop.load(ordering: .relaxed) {
                if let rate = messagesPerSecond, Double(n) > (Clock.monotonic() - start) * rate {
                    usleep(200)
                    continue
                }
                _ = try? socket.send(messages[n % messages.count])
                n += 1
            }
            done.signal()
        }
    }

    /// Stops the producer and waits for its thread to finish.
    func finish() {
        stop.store(true, ordering: .relaxed)
        done.wait()
    }
}
