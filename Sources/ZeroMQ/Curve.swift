import CZeroMQ
#if canImport(Glibc)
import Glibc
#endif

/// A CURVE key pair in Z85 text (40 characters each), as libzmq takes them.
///
/// CURVE gives a socket encryption and lets the server know each client's
/// public key, which the daemon's ZAP handler checks against allow-lists.
public struct CurveKeyPair: Sendable, Equatable {
    public let publicKey: String
    public let secretKey: String

    /// A fresh random key pair (`zmq_curve_keypair`).
    public static func generate() throws -> CurveKeyPair {
        var publicKey = [CChar](repeating: 0, count: 41)
        var secretKey = [CChar](repeating: 0, count: 41)
        _ = try zmqCall("zmq_curve_keypair") { zmq_curve_keypair(&publicKey, &secretKey) }
        return CurveKeyPair(publicKey: String(cString: publicKey), secretKey: String(cString: secretKey))
    }

    private init(publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// The pair for a known secret key; the public half is derived (`zmq_curve_public`).
    public init(secretKey: String) throws {
        guard Z85.isKey(secretKey) else { throw ZMQError(code: EINVAL, operation: "CURVE secret key (expects 40 Z85 characters)") }
        var publicKey = [CChar](repeating: 0, count: 41)
        _ = try zmqCall("zmq_curve_public") { zmq_curve_public(&publicKey, secretKey) }
        self.init(publicKey: String(cString: publicKey), secretKey: secretKey)
    }

    /// True when this libzmq was built with CURVE (libsodium).
    public static var isAvailable: Bool { zmq_has("curve") != 0 }
}

/// Z85, ZeroMQ's text encoding for keys.
public enum Z85 {
    private static let alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)

    /// True for a 40-character Z85 string, the text form of a 32-byte key.
    public static func isKey(_ text: String) -> Bool {
        text.utf8.count == 40 && text.utf8.allSatisfy(alphabet.contains)
    }

    /// Z85 text of binary bytes whose count is a multiple of 4 (a ZAP request carries keys as 32 raw bytes).
    public static func encode(_ bytes: [UInt8]) -> String? {
        guard bytes.count % 4 == 0 else { return nil }
        var text = [CChar](repeating: 0, count: bytes.count * 5 / 4 + 1)
        guard zmq_z85_encode(&text, bytes, bytes.count) != nil else { return nil }
        return String(cString: text)
    }
}

extension Socket {
    /// Makes this socket a CURVE server with `secretKey` (set before `bind`).
    public func makeCurveServer(secretKey: String) throws {
        try setOption(SocketOption.curveServer, Int32(1))
        try setOption(SocketOption.curveSecretKey, secretKey)
    }

    /// Makes this socket a CURVE client of the server whose public key is
    /// `serverKey`, authenticating as `keys` (set before `connect`).
    public func makeCurveClient(serverKey: String, keys: CurveKeyPair) throws {
        try setOption(SocketOption.curveServerKey, serverKey)
        try setOption(SocketOption.curvePublicKey, keys.publicKey)
        try setOption(SocketOption.curveSecretKey, keys.secretKey)
    }
}
