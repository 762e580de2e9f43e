import CZeroMQ

/// A libzmq context. Every `Socket` holds its context, so the context is
/// terminated only after its last socket has closed.
public final class Context: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    public init() throws {
        guard let handle = zmq_ctx_new() else {
            throw ZMQError(code: zmq_errno(), operation: "zmq_ctx_new")
        }
        self.handle = handle
    }

    deinit {
        _ = try? zmqCall("zmq_ctx_term") { zmq_ctx_term(handle) }
    }
}
