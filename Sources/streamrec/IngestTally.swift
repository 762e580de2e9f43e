import StreamRecServer

/// The ingest counters of a daemon's `stats` reply, for clients that push and
/// then check what became of their events (`push`, the bench).
struct IngestTally {
    var received: UInt64
    var byReason: [String: UInt64]

    /// Events rejected for any reason.
    var rejected: UInt64 { byReason.values.reduce(0, +) }

    /// Asks `client` for `stats` now.
    init(_ client: QueryClient) throws {
        let reply = try client.request(.object([("op", .string("stats"))]))
        guard let received = reply["events_received"]?.double, case .object(let reasons)? = reply["events_rejected"] else {
            throw DaemonError("unexpected stats reply: \(reply.text)")
        }
        self.received = UInt64(received)
        byReason = Dictionary(uniqueKeysWithValues: reasons.map { ($0.key, UInt64($0.value.double ?? 0)) })
    }
}
