import Foundation
import Synchronization
import ZeroMQ

/// The query side of the daemon: a pool of worker threads behind the public
/// endpoint, answering read-only queries in parallel with ingest.
///
/// Clients still see one REQ/REP endpoint. A ROUTER socket there hands
/// requests through `zmq_proxy` to a DEALER on inproc, which spreads them
/// over the workers' REP sockets. A worker answers read-only ops itself
/// (`answer` returns a reply); ops that change state or must be ordered with
/// ingest (`observe`, `snapshot`) are forwarded over inproc REQ to the event
/// loop, and its reply is relayed back.
final class QueryWorkers: @unchecked Sendable {
    /// The endpoint the loop binds a REP socket on for forwarded requests.
    static let loopEndpoint = "inproc://streamrec-loop"
    private static let backendEndpoint = "inproc://streamrec-workers"
    private static let controlEndpoint = "inproc://streamrec-proxy-control"

    private let context: Context
    private let stopFlag = Atomic<Bool>(false)
    private let finished = DispatchGroup()
    private let proxyControl: Socket

    /// Starts the proxy and `count` workers on `frontend` (a ROUTER already
    /// configured and bound). `answer` must be thread-safe; it returns nil
    /// for requests the loop has to handle.
    init(context: Context, frontend: Socket, count: Int,
         answer: @escaping @Sendable (UnsafeRawBufferPointer) -> [UInt8]?) throws {
        self.context = context
        let backend = try Socket(context, .dealer)
        try backend.bind(Self.backendEndpoint)
        let control = try Socket(context, .pair)
        try control.bind(Self.controlEndpoint)
        proxyControl = try Socket(context, .pair)
        try proxyControl.connect(Self.controlEndpoint)

        // Each worker's sockets are made here and then used only by its thread.
        for n in 0..<max(1, count) {
            let rep = try Socket(context, .rep)
            try rep.connect(Self.backendEndpoint)
            let forward = try Socket(context, .req)
            try forward.connect(Self.loopEndpoint)
            finished.enter()
            let thread = Thread { [self] in
                defer { finished.leave() }
                serve(rep: rep, forward: forward, answer: answer)
            }
            thread.name = "streamrec-query-\(n)"
            thread.start()
        }
        finished.enter()
        let proxy = Thread { [finished] in
            defer { finished.leave() }
            _ = try? Proxy.run(frontend: frontend, backend: backend, control: control)
        }
        proxy.name = "streamrec-proxy"
        proxy.start()
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

    /// Stops the workers and the proxy and waits for their threads.
    func stop() {
        stopFlag.store(true, ordering: .relaxed)
        _ = try? proxyControl.send(Proxy.terminate)
        finished.wait()
    }
}
