import ZeroMQ

/// A REQ client for the query socket: one JSON request, one JSON reply.
///
/// Used by the `streamrec` command and by the tests, so both speak the
/// protocol through the same code.
public final class QueryClient {
    public let endpoint: String
    private let socket: Socket

    /// Connects to `endpoint` (over CURVE when `curve` is given); requests
    /// fail after `timeout` seconds without a reply.
    public init(endpoint: String, timeout: Double = 5, context: Context? = nil, curve: CurveClientKeys? = nil) throws {
        self.endpoint = endpoint
        socket = try Socket(context ?? Context(), .req)
        let milliseconds = Int32(min(timeout * 1000, Double(Int32.max)))
        try socket.setOption(SocketOption.receiveTimeout, milliseconds)
        try socket.setOption(SocketOption.sendTimeout, milliseconds)
        try socket.setOption(SocketOption.linger, Int32(0))
        try curve?.apply(to: socket)
        try socket.connect(endpoint)
    }

    /// Sends raw bytes and returns the raw reply.
    public func requestBytes(_ bytes: [UInt8]) throws -> [UInt8] {
        guard try socket.send(bytes), let reply = try socket.receive() else {
            throw DaemonError("no reply from \(endpoint) in time: is streamrecd running there?")
        }
        return reply
    }

    /// Sends `request` and returns the parsed reply (which may be `ok:false`).
    public func request(_ request: JSONValue) throws -> JSONValue {
        let reply = try requestBytes(request.bytes)
        return try reply.withUnsafeBytes { try JSONParser.parse($0) }
    }
}
