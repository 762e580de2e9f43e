import Foundation
import StreamRecCore
import Synchronization
import ZeroMQ

/// The query side of the daemon: a front thread on the public endpoint and
/// a pool of worker threads behind it, answering read-only queries in
/// parallel with ingest.
///
/// Clients still see one REQ/REP endpoint, a ROUTER read by `QueryFront`.
/// The front answers light queries itself and passes the rest through a
/// DEALER on inproc, which spreads them over the workers' REP sockets. A
/// worker answers heavy read-only ops (`answer` returns a reply); ops that
/// change state or must be ordered with ingest (`observe`, `snapshot`) are
/// forwarded over inproc REQ to the event loop, and its reply is relayed
/// back. `QueryRoute` decides which thread answers what.
final class QueryWorkers: @unchecked Sendable {
    /// The endpoint the loop binds a REP socket on for forwarded requests.
    static let loopEndpoint = "inproc://streamrec-loop"
    private static let backendEndpoint = "inproc://streamrec-workers"
    private static let controlEndpoint = "inproc://streamrec-front-control"

    private let context: Context
    private let stopFlag = Atomic<Bool>(false)
    private let finished = DispatchGroup()
    /// Stops the front thread; used only by the thread that calls `stop`.
    private let frontControl: Socket

    /// Starts the front thread and `count` workers on `frontend` (a ROUTER
    /// already configured and bound). `answer` must be thread-safe; it
    /// returns nil for requests that must travel past the stop it is given.
    /// `failed` hears why the front thread stopped if it stops on its own;
    /// `refused` hears of each request the front refuses without `answer`
    /// (a multipart one) and how many seconds that took;
    /// `busyPoll` is how long the front spins after a query it answered
    /// (`QueryFront`), unless `ingest` says the loop is busy.
    init(context: Context, frontend: Socket, count: Int, busyPoll: Double = 0, ingest: IngestActivity = IngestActivity(),
         failed: @escaping @Sendable (String) -> Void = { _ in },
         refused: @escaping @Sendable (_ seconds: Double) -> Void = { _ in },
         answer: @escaping @Sendable (UnsafeRawBufferPointer, QueryStop) -> [UInt8]?) throws {
        self.context = context
        let backend = try Socket(context, .dealer)
        try backend.bind(Self.backendEndpoint)
        let control = try Socket(context, .pair)
        try control.bind(Self.controlEndpoint)
        frontControl = try Socket(context, .pair)
        try frontControl.connect(Self.controlEndpoint)

        // Each worker's sockets are made here and then used only by its thread.
        for n in 0..<max(1, count) {
            let rep = try Socket(context, .rep)
            try rep.connect(Self.backendEndpoint)
            let forward = try Socket(context, .req)
            try forward.connect(Self.loopEndpoint)
            finished.enter()
            NamedThread.start("sr-query-\(n)") { [self] in
                defer { finished.leave() }
                serve(rep: rep, forward: forward) { answer($0, .worker) }
            }
        }
        let front = QueryFront(frontend: frontend, backend: backend, control: control, answer: answer,
                               failed: failed, refused: refused, busyPoll: busyPoll, ingest: ingest)
        finished.enter()
        NamedThread.start("sr-front") { [finished] in
            defer { finished.leave() }
            front.run()
        }
    }

    /// One worker: answer or forward each request until told to stop.
    private func serve(rep: Socket, forward: Socket, answer: (UnsafeRawBufferPointer) -> [UInt8]?) {
        var poller = Poller([rep])
        while !stopping {
            do {
                guard try poller.poll(timeoutMilliseconds: 100, enabled: [true])[0] else { continue }
                guard let request = try rep.receive(dontWait: true) else { continue }
                let reply = request.withUnsafeBytes { answer($0) }
                if let reply {
                    try rep.send(reply)
                } else {
                    try forward.send(request)
                    // The loop always replies; wait for it, but keep checking for shutdown.
                    var relayed: [UInt8]?
                    var loopPoller = Poller([forward])
                    while relayed == nil, !stopping {
                        if try loopPoller.poll(timeoutMilliseconds: 100, enabled: [true])[0] {
                            relayed = try forward.receive(dontWait: true)
                        }
                    }
                    try rep.send(relayed ?? Engine.failure("the daemon is shutting down").bytes)
                }
            } catch {
                continue  // a failed send to a vanished client is that client's loss only
            }
        }
    }

    private var stopping: Bool { stopFlag.load(ordering: .relaxed) }

    /// Stops the workers and the front thread and waits for them.
    func stop() {
        stopFlag.store(true, ordering: .relaxed)
        _ = try? frontControl.send("stop")
        finished.wait()
    }
}
