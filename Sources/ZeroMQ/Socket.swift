import CZeroMQ

/// The socket types StreamRec uses.
public enum SocketType: Int32, Sendable {
    case pair = 0   // ZMQ_PAIR
    case req = 3    // ZMQ_REQ
    case rep = 4    // ZMQ_REP
    case dealer = 5 // ZMQ_DEALER
    case router = 6 // ZMQ_ROUTER
    case pull = 7   // ZMQ_PULL
    case push = 8   // ZMQ_PUSH
}

/// One libzmq socket. It keeps its context alive and closes itself in `deinit`.
///
/// Not thread-safe, like the libzmq socket under it: use it from one thread at a time.
public final class Socket {
    public let context: Context
    let handle: UnsafeMutableRawPointer
    /// A reusable message for `receive`, so receiving allocates nothing of ours.
    private var message = zmq_msg_t()

    public init(_ context: Context, _ type: SocketType) throws {
        guard let handle = zmq_socket(context.handle, type.rawValue) else {
            throw ZMQError(code: zmq_errno(), operation: "zmq_socket")
        }
        self.context = context
        self.handle = handle
        zmq_msg_init(&message)
    }

    deinit {
        zmq_msg_close(&message)
        zmq_close(handle)
    }

    public func bind(_ endpoint: String) throws {
        _ = try zmqCall("bind \(endpoint)") { zmq_bind(handle, endpoint) }
    }

    /// Stops listening on `endpoint` and drops the connections it accepted;
    /// messages already queued from them can still be received.
    public func unbind(_ endpoint: String) throws {
        _ = try zmqCall("unbind \(endpoint)") { zmq_unbind(handle, endpoint) }
    }

    public func connect(_ endpoint: String) throws {
        _ = try zmqCall("connect \(endpoint)") { zmq_connect(handle, endpoint) }
    }

    /// The endpoint actually bound, with the port filled in after binding `tcp://host:*`.
    public var lastEndpoint: String {
        var buffer = [CChar](repeating: 0, count: 512)
        var size = buffer.count
        _ = zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size)
        return String(cString: buffer)
    }

    /// Whether a message is waiting to be received now (`ZMQ_EVENTS` has
    /// `ZMQ_POLLIN`), without receiving it or sleeping.
    public func hasInput() throws -> Bool {
        var events: Int32 = 0
        var size = MemoryLayout<Int32>.size
        _ = try zmqCall("getsockopt ZMQ_EVENTS") { zmq_getsockopt(handle, ZMQ_EVENTS, &events, &size) }
        return events & Int32(ZMQ_POLLIN) != 0
    }

    /// Sets an integer option such as `ZMQ_LINGER` or `ZMQ_RCVHWM`.
    public func setOption(_ option: Int32, _ value: Int32) throws {
        var value = value
        _ = try zmqCall("setsockopt \(option)") {
            zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size)
        }
    }

    /// Sets a 64-bit integer option such as `ZMQ_MAXMSGSIZE`.
    public func setOption(_ option: Int32, _ value: Int64) throws {
        var value = value
        _ = try zmqCall("setsockopt \(option)") {
            zmq_setsockopt(handle, option, &value, MemoryLayout<Int64>.size)
        }
    }

    /// Sets a string or binary option such as `ZMQ_CURVE_SECRETKEY` (Z85 text) or `ZMQ_ZAP_DOMAIN`.
    public func setOption(_ option: Int32, _ value: String) throws {
        var value = value
        _ = try zmqCall("setsockopt \(option)") {
            value.withUTF8 { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        }
    }

    /// Sends one message. Returns false when a non-blocking send (or one past
    /// `ZMQ_SNDTIMEO`) would block.
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer, dontWait: Bool = false, more: Bool = false) throws -> Bool {
        let flags = (dontWait ? ZMQ_DONTWAIT : 0) | (more ? ZMQ_SNDMORE : 0)
        return try zmqCall("send") { zmq_send(handle, bytes.baseAddress, bytes.count, flags) } != nil
    }

    @discardableResult
    public func send(_ bytes: [UInt8], dontWait: Bool = false, more: Bool = false) throws -> Bool {
        try bytes.withUnsafeBytes { try send($0, dontWait: dontWait, more: more) }
    }

    @discardableResult
    public func send(_ text: String, dontWait: Bool = false) throws -> Bool {
        var text = text
        return try text.withUTF8 { try send(UnsafeRawBufferPointer($0), dontWait: dontWait) }
    }

    /// Sends `frames` as one multipart message (a ROUTER reply is its
    /// envelope's frames, then the body).
    public func sendMultipart(_ frames: [[UInt8]]) throws {
        for (n, frame) in frames.enumerated() { try send(frame, more: n < frames.count - 1) }
    }

    /// Receives one message and lends its bytes to `body` without copying them.
    ///
    /// Returns nil when nothing arrived (non-blocking, or `ZMQ_RCVTIMEO` passed).
    public func receive<T>(dontWait: Bool = false, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T? {
        guard let size = try receiveFrame(dontWait: dontWait) else { return nil }
        return try body(UnsafeRawBufferPointer(start: zmq_msg_data(&message), count: size))
    }

    /// What `receiveWhole` got: what `body` made of a one-frame message, or
    /// the frame count of a multipart one.
    public enum Whole<T> {
        case frame(T)
        case multipart(frames: Int)
    }

    /// Receives one message and lends its bytes to `body` when it is one
    /// frame; a message of several frames (sent with `ZMQ_SNDMORE`) is read
    /// to its end and reported by its frame count instead, for a protocol
    /// of one-frame messages that must refuse such a message whole rather
    /// than take each frame for a message of its own.
    ///
    /// Returns nil when nothing arrived, as `receive` does.
    public func receiveWhole<T>(dontWait: Bool = false, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> Whole<T>? {
        guard let size = try receiveFrame(dontWait: dontWait) else { return nil }
        guard zmq_msg_more(&message) != 0 else {
            return .frame(try body(UnsafeRawBufferPointer(start: zmq_msg_data(&message), count: size)))
        }
        // ZeroMQ delivers a message's frames together, so the rest is here.
        var frames = 1
        while zmq_msg_more(&message) != 0, try receiveFrame() != nil { frames += 1 }
        return .multipart(frames: frames)
    }

    /// Receives the next frame into `message`; its size, or nil when none came.
    private func receiveFrame(dontWait: Bool = false) throws -> Int? {
        let flags = dontWait ? ZMQ_DONTWAIT : 0
        return try zmqCall("receive", { zmq_msg_recv(&message, handle, flags) }).map(Int.init)
    }

    /// Receives one message as a fresh byte array.
    public func receive(dontWait: Bool = false) throws -> [UInt8]? {
        try receive(dontWait: dontWait) { Array($0) }
    }

    /// Receives every frame of one multipart message (as a ZAP request or a ROUTER's request with its envelope is).
    public func receiveMultipart(dontWait: Bool = false) throws -> [[UInt8]]? {
        guard let first = try receive(dontWait: dontWait) else { return nil }
        var frames = [first]
        while zmq_msg_more(&message) != 0, let frame = try receive() { frames.append(frame) }
        return frames
    }
}

/// The ZeroMQ option numbers StreamRec sets, named for readability at call sites.
public enum SocketOption {
    public static let linger = ZMQ_LINGER
    public static let receiveHighWaterMark = ZMQ_RCVHWM
    public static let sendHighWaterMark = ZMQ_SNDHWM
    public static let receiveTimeout = ZMQ_RCVTIMEO
    public static let sendTimeout = ZMQ_SNDTIMEO
    public static let maxMessageSize = ZMQ_MAXMSGSIZE
    public static let immediate = ZMQ_IMMEDIATE
    /// CURVE (see Curve.swift): Int32 1 makes a socket the server side.
    public static let curveServer = ZMQ_CURVE_SERVER
    /// CURVE keys, as 40-character Z85 strings.
    public static let curvePublicKey = ZMQ_CURVE_PUBLICKEY
    public static let curveSecretKey = ZMQ_CURVE_SECRETKEY
    public static let curveServerKey = ZMQ_CURVE_SERVERKEY
    /// The domain a server socket names in its ZAP requests, so one handler can apply per-socket rules.
    public static let zapDomain = ZMQ_ZAP_DOMAIN
}
