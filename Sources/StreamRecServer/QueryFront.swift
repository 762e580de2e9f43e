import ZeroMQ

/// The thread behind the public query endpoint: answers light queries
/// itself and passes heavy ones to the query workers.
///
/// One `zmq_poll` over the public ROUTER, the DEALER in front of the
/// workers' REP sockets and a control socket. A request the front may answer
/// (`QueryRoute`: predict, stats, a top over a small catalogue…) is answered
/// on this thread and sent back with its envelope, so it costs one thread
/// wakeup, as a plain REP socket would, or none when it arrives within
/// `busyPoll` of the last query answered here while no worker holds one
/// and no ingest flows (see `run`). Anything else goes to the DEALER
/// unchanged, envelope and all, and the worker's reply comes back the same
/// way. We rejected keeping `zmq_proxy_steerable` here: it sends every
/// query to a worker, two more thread wakeups (~100 µs on a busy 2-core box)
/// than answering in place, which made predict 1.65–1.95 × bare libzmq's
/// round trip against 1.09 × before the pool.
struct QueryFront {
    /// The public endpoint: REQ clients' requests arrive with their envelope.
    let frontend: Socket
    /// Round-robins forwarded requests over the workers' REP sockets.
    let backend: Socket
    /// Any message here stops the loop.
    let control: Socket
    /// The reply to a request body answered at the given stop (`front`, or
    /// `idleFront` when nothing else waits or runs), or nil to forward it.
    let answer: (UnsafeRawBufferPointer, QueryStop) -> [UInt8]?
    /// Told why the loop stopped when polling fails other than at shutdown.
    let failed: (String) -> Void
    /// Told of each request the front refuses itself (a multipart one), and
    /// how long the refusal took, so metrics count it as `answer`'s are.
    let refused: (_ seconds: Double) -> Void
    /// Seconds the front keeps polling without sleeping after answering a
    /// query itself (`Poller.poll(spinning:since:enabled:)`); 0 sleeps at once.
    let busyPoll: Double
    /// While the loop takes ingest, the front does not spin (`IngestActivity`).
    let ingest: IngestActivity

    /// Serves until a message arrives on `control` (or polling fails).
    ///
    /// The front spins only after a query it answered itself, and only
    /// while no forwarded query is at a worker and the loop takes no
    /// ingest: a worker's scan and the loop need the cores a spinning front
    /// would take. Spinning through worker-answered tops over 100 k items
    /// cut 4-client throughput against 1 client from 2.0 × to 1.5 × and
    /// doubled the p99 under ingest on the 2-core box (docs/BENCHMARKS.md).
    /// Only requests a worker's REP socket will answer are counted (REP
    /// drops other shapes unanswered), and a count with no reply for
    /// `workerSilence` seconds is not trusted, so a worker that never
    /// answers cannot turn the spin off for good.
    func run() {
        var poller = Poller([frontend, backend, control])
        var lastAnswered = -Double.infinity, lastAtWorkers = -Double.infinity
        var atWorkers = 0
        var clients = SoloClientWatch()
        func workersBusy(_ now: Double) -> Bool { atWorkers > 0 && now - lastAtWorkers < Self.workerSilence }
        while true {
            let ready: [Bool]
            do {
                let now = Clock.monotonic()
                let othersBusy = workersBusy(now) || ingest.isBusy(now: now)
                ready = try poller.poll(spinning: othersBusy ? 0 : busyPoll, since: lastAnswered,
                                        enabled: [true, true, true])
            } catch let error as ZMQError where error.isContextTerminated {
                return  // the context is closing: shutdown
            } catch {
                failed("the query front stopped, so no query will be answered: \(error)")
                return
            }
            if ready[2] { return }
            if ready[0] {
                let now = Clock.monotonic()
                switch takeRequest(now: now, workersBusy: workersBusy(now), clients: &clients) {
                case .answered?: lastAnswered = Clock.monotonic()
                case .forwarded?:
                    atWorkers += 1
                    lastAtWorkers = Clock.monotonic()
                case .passedOn?, nil: break
                }
            }
            if ready[1], relayReply() {
                atWorkers = max(0, atWorkers - 1)
                lastAtWorkers = Clock.monotonic()
            }
        }
    }

    /// Seconds after the last forward or reply past which a nonzero count of
    /// requests at the workers no longer stops the spin.
    static let workerSilence = 1.0

    /// Where `takeRequest` sent a request: answered here, forwarded as a
    /// request a worker will answer, or passed on in a shape it may drop.
    private enum Taken { case answered, forwarded, passedOn }

    /// Answers or forwards one request; nil when none could be taken or passed on.
    /// A failed send to a vanished client is that client's loss only.
    /// With no other request waiting, none at the workers and no other
    /// client heard from lately, the front is idle and may answer more
    /// itself (`QueryStop.idleFront`).
    private func takeRequest(now: Double, workersBusy: Bool, clients: inout SoloClientWatch) -> Taken? {
        guard let frames = try? frontend.receiveMultipart(dontWait: true) else { return nil }
        let request = RouterRequest(frames)
        let solo = request.map { clients.note($0.envelope, now: now) } ?? false
        let idle = solo && !workersBusy && (try? frontend.hasInput()) == false
        if let request, let reply = request.body.withUnsafeBytes({ answer($0, idle ? .idleFront : .front) }) {
            try? frontend.sendMultipart(request.envelope + [reply])
            return .answered
        }
        if let envelope = RouterRequest.multipartEnvelope(frames) {
            let frameCount = frames.count - envelope.count
            let reply = Engine.failure("a request is one frame of JSON; this one had \(frameCount) frames")
            refused(Clock.monotonic() - now)
            try? frontend.sendMultipart(envelope + [reply.bytes])
            return .answered
        }
        do {
            try backend.sendMultipart(frames)
            return request == nil ? .passedOn : .forwarded
        } catch {
            return nil
        }
    }

    /// Passes one worker's reply back to its client; false when there was none.
    private func relayReply() -> Bool {
        guard let frames = try? backend.receiveMultipart(dontWait: true) else { return false }
        try? frontend.sendMultipart(frames)
        return true
    }
}

/// Whether every request of the last `window` seconds came from one client:
/// then a scan the front runs in place is unlikely to hold up anyone else's.
///
/// Idle at the moment a request arrives is not enough. With four clients
/// in a closed loop the others' requests are often still in flight then,
/// and answering 100 k-item tops in place left the workers idle behind a
/// busy front: 4-client throughput fell below 1 worker's (docs/BENCHMARKS.md).
///
/// A client that opens a socket per request (the `streamrec` CLI) is a new
/// client each time; after a quiet window it is alone again.
struct SoloClientWatch {
    private var last: [[UInt8]]?
    private var lastHeard = -Double.infinity
    /// When two clients were last heard from within `window` of each other.
    private var sharedAt = -Double.infinity
    static let window = 0.010

    /// Notes a request from `client` (its envelope) at `now`; true when no
    /// other client sent one in the last `window` seconds.
    mutating func note(_ client: [[UInt8]], now: Double) -> Bool {
        if client != last {
            if now - lastHeard < Self.window { sharedAt = now }
            last = client
        }
        lastHeard = now
        return now - sharedAt >= Self.window
    }
}

/// A request as a ROUTER receives it: the envelope (identity frames up to
/// and including the empty delimiter), then the body.
struct RouterRequest {
    let envelope: [[UInt8]]
    let body: [UInt8]

    /// Nil unless the frames are an envelope and exactly one body frame, the
    /// only shape a REQ client sends for one request; a multipart request
    /// gets `multipartEnvelope`'s error reply, and other shapes go to a
    /// worker's REP socket untouched, which deals with them as before.
    init?(_ frames: [[UInt8]]) {
        guard let delimiter = Self.delimiter(frames), delimiter == frames.count - 2 else { return nil }
        envelope = Array(frames[...delimiter])
        body = frames[frames.count - 1]
    }

    /// The envelope of a request sent as several body frames (a REQ client
    /// sending with ZMQ_SNDMORE), which is answered ok:false: the protocol
    /// is one JSON frame a request, and a worker's REP socket used to answer
    /// the last frame alone, as if the others had not been sent.
    static func multipartEnvelope(_ frames: [[UInt8]]) -> [[UInt8]]? {
        guard let delimiter = delimiter(frames), frames.count - delimiter > 2 else { return nil }
        return Array(frames[...delimiter])
    }

    /// The index of the empty frame that ends the envelope, after at least
    /// one identity frame; nil when there is none.
    private static func delimiter(_ frames: [[UInt8]]) -> Int? {
        guard let delimiter = frames.firstIndex(where: \.isEmpty), delimiter > 0 else { return nil }
        return delimiter
    }
}
