import CZeroMQ
#if canImport(Glibc)
import Glibc
#endif

/// A failed libzmq call: the operation, its errno and libzmq's own text for it.
public struct ZMQError: Error, CustomStringConvertible, Equatable {
    /// The errno libzmq reported (`zmq_errno()`), read right after the failing call.
    public let code: Int32
    /// What we were doing, e.g. `bind tcp://127.0.0.1:5555`.
    public let operation: String

    public init(code: Int32, operation: String) {
        self.code = code
        self.operation = operation
    }

    /// `zmq_strerror` text for `code`.
    public var message: String { String(cString: zmq_strerror(code)) }

    public var description: String { "\(operation): \(message) (errno \(code))" }

    /// True for ETERM: the context is being terminated, the normal end of a
    /// socket's life at shutdown rather than a fault.
    public var isContextTerminated: Bool { code == ETERM }
}

/// Runs one libzmq call: the only place that reads `zmq_errno()`.
///
/// Returns the call's non-negative result, or `nil` when libzmq says EAGAIN (a
/// non-blocking call that would block, or a timeout). EINTR is retried unless
/// `retryOnInterrupt` is false: the event loop wants to see signals, so it gets
/// `nil` for EINTR too and checks its stop flag. Anything else throws.
@inline(__always)
func zmqCall(
    _ operation: @autoclosure () -> String,
    retryOnInterrupt: Bool = true,
    _ body: () -> Int32
) throws -> Int32? {
    while true {
        let rc = body()
        if rc >= 0 { return rc }
        let code = zmq_errno()
        if code == EINTR {
            if retryOnInterrupt { continue }
            return nil
        }
        if code == EAGAIN { return nil }
        throw ZMQError(code: code, operation: operation())
    }
}
