import Dispatch
import Histogram
import StreamRecCore
import StreamRecServer
import Synchronization
import ZeroMQ

/// The serving figures of a running daemon: top-10 round trips idle and
/// while ingest runs at half its measured maximum, and query throughput with
/// several clients at once.
struct ServingRun {
    let pull: String
    let rep: String
    let stats: QueryClient
    let context: Context

    /// Top-10 queries per second from `clients` threads, each with its own
    /// REQ socket, over `seconds`.
    func throughput(_ requests: [[UInt8]], clients: Int, seconds: Double) throws -> Double {
        let answered = Atomic<Int>(0), failed = Atomic<Int>(0)
        let firstFailure = Locked<String?>(nil)
        let group = DispatchGroup()
        let deadline = Clock.monotonic() + seconds
        for c in 0..<clients {
            let client = try QueryClient(endpoint: rep, timeout: 10)
            group.enter()
            DispatchQueue.global().async {
                defer { group.leave() }
                var n = c * 97
                while Clock.monotonic() < deadline {
                    let reply: [UInt8]
                    do {
                        reply = try client.requestBytes(requests[n % requests.count])
                    } catch {
                        firstFailure.withLock { $0 = $0 ?? "\(error)" }
                        failed.add(1, ordering: .relaxed)
                        return
                    }
                    guard reply.starts(with: Array(#"{"ok":true"#.utf8)) else {
                        firstFailure.withLock { $0 = $0 ?? String(decoding: reply, as: UTF8.self) }
                        failed.add(1, ordering: .relaxed)
                        return
                    }
                    answered.add(1, ordering: .relaxed)
                    n += 1
                }
            }
        }
        group.wait()
        guard failed.load(ordering: .relaxed) == 0 else {
            throw DaemonError("\(failed.load(ordering: .relaxed)) of \(clients) clients failed, first: \(firstFailure.withLock { $0 } ?? "?")")
        }
        return Double(answered.load(ordering: .relaxed)) / seconds
    }
}
