import ZeroMQ

/// The thread behind the public query endpoint: answers light queries
/// itself and passes heavy ones to the query workers.
///
/// One `zmq_poll` over the public ROUTER, the DEALER in front of the
/// workers' REP sockets and a control socket. A request the front may answer
/// (`QueryRoute`: predict, stats, a top over a small catalogue…) is answered
/// on this thread and sent back with its envelope, so it costs one thread
/// wakeup, as a plain REP socket would. Anything else goes to the DEALER
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
    /// The reply to a request body, or nil to forward it to a worker.
    let answer: (UnsafeRawBufferPointer) -> [UInt8]?
    /// Told why the loop stopped when polling fails other than at shutdown.
    let failed: (String) -> Void
    /// Seconds the front keeps polling without sleeping after each message
    /// (`Poller.poll(spinning:since:enabled:)`); 0 sleeps at once.
    let busyPoll: Double

    /// Serves until a message arrives on `control` (or polling fails).
    func run() {
        var poller = Poller([frontend, backend, control])
        var lastActivity = Clock.monotonic()
        while true {
            let ready: [Bool]
            do {
                ready = try poller.poll(spinning: busyPoll, since: lastActivity, enabled: [true, true, true])
                lastActivity = Clock.monotonic()
            } catch let error as ZMQError where error.isContextTerminated {
                return  // the context is closing: shutdown
            } catch {
                failed("the query front stopped, so no query will be answered: \(error)")
                return
            }
            if ready[2] { return }
            // A failed send to a vanished client is that client's loss only.
            if ready[0] { try? takeRequest() }
            if ready[1] { try? relayReply() }
        }
    }

    private func takeRequest() throws {
        guard let frames = try frontend.receiveMultipart(dontWait: true) else { return }
        if let request = RouterRequest(frames), let reply = request.body.withUnsafeBytes(answer) {
            try frontend.sendMultipart(request.envelope + [reply])
        } else {
            try backend.sendMultipart(frames)
        }
    }

    private func relayReply() throws {
        guard let frames = try backend.receiveMultipart(dontWait: true) else { return }
        try frontend.sendMultipart(frames)
    }
}

/// A request as a ROUTER receives it: the envelope (identity frames up to
/// and including the empty delimiter), then the body.
struct RouterRequest {
    let envelope: [[UInt8]]
    let body: [UInt8]

    /// Nil unless the frames are an envelope and exactly one body frame, the
    /// only shape a REQ client sends; other shapes go to a worker's REP
    /// socket untouched, which deals with them as before.
    init?(_ frames: [[UInt8]]) {
        guard let delimiter = frames.firstIndex(where: \.isEmpty), delimiter > 0,
              delimiter == frames.count - 2 else { return nil }
        envelope = Array(frames[...delimiter])
        body = frames[frames.count - 1]
    }
}
