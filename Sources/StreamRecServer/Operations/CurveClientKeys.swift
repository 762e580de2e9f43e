import ZeroMQ

/// What a client needs to talk CURVE to the daemon: the server's public key
/// and its own key pair, whose public half must be on the daemon's allow-list.
public struct CurveClientKeys: Sendable {
    public let serverKey: String
    public let keys: CurveKeyPair

    /// Each argument is a Z85 key or a file holding one; `publicKey` may be
    /// nil, as it follows from the secret key (and must match it when given).
    public init(serverKey: String, secretKey: String, publicKey: String? = nil) throws {
        self.serverKey = try CurveKeyText.key(serverKey)
        keys = try CurveKeyPair(secretKey: CurveKeyText.key(secretKey))
        if let publicKey, try CurveKeyText.key(publicKey) != keys.publicKey {
            throw DaemonError("the client public key does not belong to the client secret key")
        }
    }

    /// Makes `socket` a CURVE client (call before `connect`).
    public func apply(to socket: Socket) throws {
        try socket.makeCurveClient(serverKey: serverKey, keys: keys)
    }
}
