import Foundation
import Logging
import StreamRecCore
import Synchronization
import ZeroMQ

/// The ZeroMQ authentication handler (ZAP, RFC 27) for CURVE: libzmq asks it,
/// over `inproc://zeromq.zap.01`, whether a client's public key may connect.
///
/// Each server socket names a ZAP domain (`ZMQ_ZAP_DOMAIN`), and each domain
/// has its own allow-list, so a producer key cannot query and a query key
/// cannot push. A domain without a list, or a key not in it, is refused.
/// It runs on its own thread with its own socket; it shares only the context.
final class ZAPHandler: @unchecked Sendable {
    static let endpoint = "inproc://zeromq.zap.01"
    private let state = ThreadState()

    /// Binds the handler in `context` (before any CURVE socket binds) and starts answering.
    /// `allowed` maps a ZAP domain to the Z85 public keys it admits.
    init(context: Context, allowed: [String: Set<String>], logger: Logger) throws {
        let socket = try Socket(context, .rep)
        try socket.setOption(SocketOption.linger, Int32(0))
        try socket.setOption(SocketOption.receiveTimeout, Int32(100))  // how often it looks at the stop flag
        try socket.bind(Self.endpoint)
        let box = UncheckedSocket(socket)
        let state = self.state
        NamedThread.start("sr-zap") {
            var refusals = RateLimiter<String>(interval: 1)
            while !state.stop.load(ordering: .relaxed) {
                do {
                    guard let request = try box.socket.receiveMultipart() else { continue }
                    let (reply, refused) = Self.answer(request, allowed: allowed)
                    for (n, frame) in reply.enumerated() { try box.socket.send(frame, more: n < reply.count - 1) }
                    if let refused, let quiet = refusals.allow(refused.domain, now: Clock.monotonic()) {
                        logger.warning("CURVE: refused \(refused.detail)\(quiet > 0 ? " (\(quiet) more refusals not logged)" : "")")
                    }
                } catch {
                    logger.error("ZAP handler: \(error)")
                }
            }
            state.finished.signal()
        }
    }

    /// The reply frames to one request and, for a refusal, its domain and a line for the log.
    static func answer(_ frames: [[UInt8]], allowed: [String: Set<String>]) -> (reply: [[UInt8]], refused: (domain: String, detail: String)?) {
        guard frames.count >= 6 else {
            return ([Array("1.0".utf8), [], Array("500".utf8), Array("malformed".utf8), [], []], ("", "a malformed ZAP request"))
        }
        let requestID = frames[1]
        let domain = String(decoding: frames[2], as: UTF8.self)
        let mechanism = String(decoding: frames[5], as: UTF8.self)
        func reply(_ code: String, _ text: String, user: String = "") -> [[UInt8]] {
            [Array("1.0".utf8), requestID, Array(code.utf8), Array(text.utf8), Array(user.utf8), []]
        }
        guard mechanism == "CURVE", frames.count >= 7, let key = Z85.encode(frames[6]) else {
            return (reply("400", "CURVE required"), (domain, "a \(mechanism) client on the \(domain) socket"))
        }
        guard allowed[domain]?.contains(key) == true else {
            let address = String(decoding: frames[3], as: UTF8.self)
            return (reply("400", "key not allowed"), (domain, "key \(key) from \(address) (not on the \(domain) list)"))
        }
        return (reply("200", "OK", user: key), nil)
    }

    /// Stops the thread (within one receive timeout) and waits for it.
    func stop() {
        guard !state.stop.exchange(true, ordering: .relaxed) else { return }
        state.finished.wait()
    }

    deinit { stop() }
}

/// The stop request and the thread's exit, apart from the handler so the thread does not keep it alive.
private final class ThreadState: Sendable {
    let stop = Atomic<Bool>(false)
    let finished = DispatchSemaphore(value: 0)
}

/// Hands a socket to the one thread that will use it from then on.
private struct UncheckedSocket: @unchecked Sendable {
    let socket: Socket
    init(_ socket: Socket) { self.socket = socket }
}
