import StreamRecCore

/// The daemon's state and everything it does with a message, minus the sockets.
///
/// The event loop hands it raw ingest messages and query requests; it applies
/// events, answers queries, and says when the loop must take a snapshot.
public struct Engine {
    public private(set) var model: Model
    public private(set) var counters = IngestCounters()
    public let limits: EventLimits
    public let maxMessageBytes: Int
    /// The last snapshot written or restored, and the last write failure.
    public var lastSnapshot: SnapshotInfo?
    public var lastSnapshotError: String?
    /// The write-ahead log, told every change in the order it is applied
    /// (nil: no log, as in unit tests of the engine alone).
    public var journal: LogWriter?
    private let startedAt = Clock.monotonic()
    /// The op of the last query, as a metrics label: one of `ops`, `unknown` or `invalid`.
    public private(set) var lastQueryOp = "invalid"
    /// Whether a `top` over a large catalogue may share its scan with a
    /// second core (`TopQuery.sharesScan`); the daemon sets it from
    /// `--query-threads`, so that one query thread means one core.
    public var sharesScans = true

    public init(model: Model, limits: EventLimits, maxMessageBytes: Int) {
        self.model = model
        self.limits = limits
        self.maxMessageBytes = maxMessageBytes
    }

    /// Applies one ingest message whole, or rejects it whole and says why.
    public mutating func ingest(_ message: UnsafeRawBufferPointer) -> Rejection? {
        switch check(message) {
        case .success(var pending):
            apply(&pending, upTo: .max)
            return nil
        case .failure(let rejection):
            countRejected(rejection)
            return rejection
        }
    }

    /// Checks a whole ingest message and decodes its events; nothing changes.
    ///
    /// The first half of `ingest`, split off so the event loop can check a
    /// message under the read lock and then apply it in chunks (`apply`),
    /// taking the write lock once per chunk: queries wait for one chunk, not
    /// a whole 1,000-event frame. A message that fails any check applies no
    /// event at all; count it with `countRejected`.
    public func check(_ message: UnsafeRawBufferPointer) -> Result<PendingIngest, Rejection> {
        guard message.count <= maxMessageBytes else {
            return .failure(Rejection(.oversized, "message of \(message.count) bytes exceeds --max-message-bytes \(maxMessageBytes)"))
        }
        if BinaryFrame.isBinary(message) {
            // Validated whole before decoding: no Strings for integer IDs, and
            // one event array, which the log needs anyway.
            return BinaryFrameDecoder.validate(message, limits: limits)
                .map { PendingIngest(BinaryFrameDecoder.collect(message, count: $0)) }
        }
        return EventDecoder.decode(message, limits: limits).map(PendingIngest.init)
    }

    /// Counts a message `check` refused.
    public mutating func countRejected(_ rejection: Rejection) {
        counters.countRejected(rejection)
    }

    /// Applies the next `limit` (or fewer) events of a checked message.
    ///
    /// The first call logs the whole message (one record, as before), so the
    /// write-ahead log holds it in the order it is applied; counters grow
    /// with each chunk, so received = applied + rejected at every point.
    /// Readers between chunks see the message partly applied, as they would
    /// see consecutive messages; only the event loop calls this, so nothing
    /// else is logged or applied between the chunks of one message.
    public mutating func apply(_ pending: inout PendingIngest, upTo limit: Int) {
        if !pending.logged {
            journal?.append(.events(pending.events))
            pending.logged = true
        }
        let end = pending.next + min(limit, pending.events.count - pending.next)
        model.observe(pending.events[pending.next ..< end])
        counters.countApplied(end - pending.next)
        pending.next = end
    }

    /// What the loop must do with a query.
    public enum QueryOutcome {
        case reply(JSONValue)
        /// Take a snapshot, then reply with `snapshotReply`.
        case snapshot
    }

    /// The ops a query may name, for error messages and docs.
    public static let ops = ["predict", "top", "similar", "popular", "observe", "stats", "snapshot", "health"]

    /// Learns again from `count` recent events (see `Model.replay`).
    public mutating func replay(count: Int) {
        journal?.append(.replay(count: count))
        model.replay(count: count)
        counters.countReplayed(count)
    }

    /// Answers a query if `QueryRoute` lets `stop` answer it (the front
    /// thread or a query worker, under the read lock); nil when it must
    /// travel on. Malformed requests are answered wherever they are parsed.
    /// `op` is the metrics label.
    public func answer(_ request: UnsafeRawBufferPointer, at stop: QueryStop) -> (reply: JSONValue, op: String)? {
        guard QueryRoute.stop(requestBytes: request.count) <= stop else { return nil }
        switch route(request) {
        case .failure(let failure): return (failure.reply, failure.op)
        case .success(let (op, json)):
            guard QueryRoute.stop(op: op, items: model.items.count, factors: model.settings.factors) <= stop else {
                // A worker will scan the catalogue: start the scan helper's
                // wake-up now, in parallel with the worker's.
                if op == "top", json["candidates"] == nil, sharesScans { model.expectTopScan() }
                return nil
            }
            return (Self.respond { try readOnly(op, json) }, Self.label(op))
        }
    }

    /// Answers one query, any op. Never throws: every failure is an `ok:false` reply.
    public mutating func query(_ request: UnsafeRawBufferPointer) -> QueryOutcome {
        switch route(request) {
        case .failure(let failure):
            lastQueryOp = failure.op
            return .reply(failure.reply)
        case .success(let (op, json)):
            lastQueryOp = Self.label(op)
            switch op {
            case "observe": return .reply(Self.respond { try observe(json) })
            case "snapshot": return .snapshot
            default: return .reply(Self.respond { try readOnly(op, json) })
            }
        }
    }

    /// A request that could not be routed: the reply and its metrics label.
    struct Unroutable: Error {
        let reply: JSONValue
        let op: String
    }

    /// Parses a request far enough to know its op.
    private func route(_ request: UnsafeRawBufferPointer) -> Result<(String, JSONValue), Unroutable> {
        guard request.count <= maxMessageBytes else {
            return .failure(Unroutable(reply: Self.failure("request of \(request.count) bytes exceeds --max-message-bytes \(maxMessageBytes)"), op: "invalid"))
        }
        do {
            let json = try JSONParser.parse(request)
            guard case .object = json else { throw QueryError("a request must be a JSON object with an \"op\"") }
            let expected = "one of \(Self.ops.joined(separator: ", "))"
            guard let field = json["op"] else { throw QueryError("missing \"op\"; expected \(expected)") }
            guard case .string(let op) = field else { throw QueryError("\"op\" must be a string, \(expected)") }
            return .success((op, json))
        } catch {
            return .failure(Unroutable(reply: Self.respond { throw error }, op: "invalid"))
        }
    }

    private static func label(_ op: String) -> String { ops.contains(op) ? op : "unknown" }

    /// The read-only ops.
    private func readOnly(_ op: String, _ json: JSONValue) throws -> JSONValue {
        switch op {
        case "predict": return try predict(json)
        case "top": return try top(json)
        case "similar": return try similar(json)
        case "popular": return try popular(json)
        case "stats": return stats()
        case "health": return .object([("ok", .bool(true)), ("status", .string("ready"))])
        default: throw QueryError("unknown op \"\(op)\"; expected one of \(Self.ops.joined(separator: ", "))")
        }
    }

    /// The reply `body` makes, or an `ok:false` reply saying why it failed.
    private static func respond(_ body: () throws -> JSONValue) -> JSONValue {
        do {
            return try body()
        } catch let error as QueryError {
            return failure(error.message)
        } catch let rejection as Rejection {
            return failure(rejection.detail)
        } catch {
            return failure("\(error)")
        }
    }

    /// The reply to a `snapshot` op once the write has ended.
    public func snapshotReply(succeeded: Bool) -> JSONValue {
        guard succeeded, let info = lastSnapshot else {
            return Self.failure("snapshot failed: \(lastSnapshotError ?? "unknown error")")
        }
        return .object([("ok", .bool(true))] + Self.describe(info))
    }

    public static func failure(_ message: String) -> JSONValue {
        .object([("ok", .bool(false)), ("error", .string(message))])
    }

    // MARK: Ops

    private func predict(_ json: JSONValue) throws -> JSONValue {
        let user = try EventDecoder.id(json["user"], "user", limits: limits)
        let item = try EventDecoder.id(json["item"], "item", limits: limits)
        let (score, source) = model.predict(user: user, item: item)
        return .object([("ok", .bool(true)), ("score", .number(score)), ("source", .string(source.rawValue))])
    }

    private func top(_ json: JSONValue) throws -> JSONValue {
        let who: TopQuery.Who
        switch (json["user"], json["items"]) {
        case (let user?, nil):
            who = .user(try EventDecoder.id(user, "user", limits: limits))
        case (nil, .array(let given)?):
            who = .anonymous(try given.map(anonymousItem))
        case (nil, _?):
            throw QueryError("\"items\" must be an array of item IDs (an anonymous user's items)")
        case (_?, _?):
            throw QueryError("top takes \"user\" or \"items\", not both")
        case (nil, nil):
            throw QueryError("top needs either \"user\" or \"items\" (an array of item IDs for an anonymous user)")
        }
        var query = TopQuery(who, n: try count(json["n"]))
        switch json["exclude_seen"] {
        case nil: break
        case .bool(let flag)?: query.excludeSeen = flag
        default: throw QueryError("\"exclude_seen\" must be true or false")
        }
        query.exclude = try idList(json["exclude"], "exclude") ?? []
        query.candidates = try idList(json["candidates"], "candidates")
        query.sharesScan = sharesScans
        let (items, source) = model.top(query)
        return .object([("ok", .bool(true)), ("items", .array(items.map(Self.scored))), ("source", .string(source.rawValue))])
    }

    private func similar(_ json: JSONValue) throws -> JSONValue {
        let item = try EventDecoder.id(json["item"], "item", limits: limits)
        guard let items = model.similar(item: item, n: try count(json["n"])) else {
            throw QueryError("unknown item \"\(item)\"")
        }
        return .object([("ok", .bool(true)), ("items", .array(items.map(Self.scored)))])
    }

    /// One element of an anonymous user's `items`: an ID, or `{"item": ID, "rating": r}`.
    private func anonymousItem(_ json: JSONValue) throws -> (item: ExternalID, rating: Float?) {
        guard case .object = json else { return (try EventDecoder.id(json, "items[]", limits: limits), nil) }
        return (try EventDecoder.id(json["item"], "item", limits: limits),
                try EventDecoder.rating(json["rating"], limits: limits))
    }

    /// An optional array of IDs, such as `exclude` or `candidates`.
    private func idList(_ json: JSONValue?, _ field: String) throws -> [ExternalID]? {
        guard let json else { return nil }
        guard case .array(let elements) = json, elements.count <= 100_000 else {
            throw QueryError("\"\(field)\" must be an array of at most 100000 item IDs")
        }
        return try elements.enumerated().map { try EventDecoder.id($1, "\(field)[\($0)]", limits: limits) }
    }

    static func scored(_ entry: (item: ExternalID, score: Float)) -> JSONValue {
        .object([("item", json(entry.item)), ("score", .number(entry.score))])
    }

    private func popular(_ json: JSONValue) throws -> JSONValue {
        let list = model.popular(n: try count(json["n"])).map {
            JSONValue.object([("item", Self.json($0.item)), ("count", .number($0.count))])
        }
        return .object([("ok", .bool(true)), ("items", .array(list))])
    }

    private mutating func observe(_ json: JSONValue) throws -> JSONValue {
        let event: RatingEvent
        do {
            event = try EventDecoder.event(from: json, limits: limits)
        } catch let rejection as Rejection {
            counters.countRejected(rejection)
            throw rejection
        }
        // Logged before it is applied: under --fsync always this waits for the
        // disk, and an event the log refused is not applied (nor acknowledged).
        do { try journal?.appendAcknowledged(.events([event]), now: Clock.monotonic()) } catch {
            throw QueryError("\(error)")
        }
        let prior = model.observe(event)
        counters.countApplied(1)
        return .object([("ok", .bool(true)), ("prior", .number(prior))])
    }

    private func stats() -> JSONValue {
        var rejected: [(key: String, value: JSONValue)] = []
        for reason in RejectReason.allCases {
            rejected.append((reason.rawValue, .number(counters.rejected[reason] ?? 0)))
        }
        var snapshot: JSONValue = .null
        if let info = lastSnapshot { snapshot = .object(Self.describe(info)) }
        var members: [(key: String, value: JSONValue)] = [
            ("ok", .bool(true)),
            ("users", .number(model.users.count)),
            ("items", .number(model.items.count)),
            ("rated_pairs", .number(model.ratedPairs.count)),
            ("likes", .number(model.neighbourHead.liked.count)),
            ("events_received", .number(counters.received)),
            ("events_applied", .number(counters.applied)),
            ("events_rejected", .object(rejected)),
            ("events_replayed", .number(counters.replayed)),
            ("model_events", .number(model.eventsApplied)),
            ("uptime_s", .number(Float(Clock.monotonic() - startedAt))),
            ("snapshot", snapshot),
        ]
        if let error = lastSnapshotError { members.append(("snapshot_error", .string(error))) }
        if let log = journal {
            members.append(("log", .object([("fsync", .string(log.policy.rawValue)), ("position", .number(log.nextSequence)),
                                            ("dropped_records", .number(log.droppedRecords))])))
            if let error = log.lastError { members.append(("log_error", .string(error))) }
        }
        return .object(members)
    }

    /// `n` for top and popular: default 10, at most 1000.
    private func count(_ json: JSONValue?) throws -> Int {
        guard let json else { return 10 }
        guard let value = json.double, value == value.rounded(), (1...1000).contains(value) else {
            throw QueryError("\"n\" must be a whole number from 1 to 1000")
        }
        return Int(value)
    }

    /// An ID as JSON: integer IDs as numbers, others as strings.
    public static func json(_ id: ExternalID) -> JSONValue {
        switch id {
        case .number(let value): return .number(value)
        case .text(let text): return .string(text)
        }
    }

    static func describe(_ info: SnapshotInfo) -> [(key: String, value: JSONValue)] {
        [("path", .string(info.path)), ("bytes", .number(info.bytes)),
         ("time_ms", .number(info.createdAtMillis)), ("duration_ms", .number(Float(info.milliseconds)))]
    }
}

/// An ingest message that passed every check (`Engine.check`), applied a
/// chunk at a time by `Engine.apply`.
public struct PendingIngest: Sendable {
    let events: [RatingEvent]
    /// The first event not yet applied.
    public fileprivate(set) var next = 0
    fileprivate var logged = false

    init(_ events: [RatingEvent]) { self.events = events }

    /// Events in the message.
    public var count: Int { events.count }
    /// Whether every event has been applied (and the message logged).
    public var isDone: Bool { logged && next == events.count }
}

/// A query that cannot be answered, with the reason sent back to the client.
struct QueryError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
