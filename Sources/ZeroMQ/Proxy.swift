import CZeroMQ

/// `zmq_proxy_steerable`: shuttles messages between two sockets until a
/// `TERMINATE` message arrives on the control socket.
public enum Proxy {
    /// Runs on the calling thread until terminated; returns normally then.
    public static func run(frontend: Socket, backend: Socket, control: Socket) throws {
        _ = try zmqCall("zmq_proxy_steerable") {
            zmq_proxy_steerable(frontend.handle, backend.handle, nil, control.handle)
        }
    }

    /// What to send on the control socket to stop the proxy.
    public static let terminate = "TERMINATE"
}
