import Foundation
import ZeroMQ

/// CURVE settings: the server's secret key and who may connect to which socket.
///
/// Off (plaintext) unless `serverSecretKey` is set. With it, both sockets
/// require CURVE and a ZAP handler admits only listed client public keys:
/// `producerKeys` on the ingest (PULL) socket, `clientKeys` on the query (REP)
/// socket. An empty list admits nobody.
public struct SecurityConfig: Sendable, Equatable {
    /// The server's Z85 secret key; its public half is what clients need.
    public var serverSecretKey: String?
    /// Z85 public keys allowed to PUSH events.
    public var producerKeys: [String] = []
    /// Z85 public keys allowed to send queries.
    public var clientKeys: [String] = []

    public init() {}

    public var curveEnabled: Bool { serverSecretKey != nil }

    /// ZAP domains the daemon's sockets name, one per allow-list.
    static let ingestDomain = "ingest"
    static let queryDomain = "query"
}

/// Reads keys written as Z85 text or kept in files, as `streamrec keygen` writes them.
public enum CurveKeyText {
    /// `text` itself when it is a 40-character Z85 key, else the keys in the
    /// file it names: one per line; blank lines and `#` comments skipped.
    public static func keys(_ text: String) throws -> [String] {
        let text = text.trimmingCharacters(in: .whitespaces)
        if Z85.isKey(text) { return [text] }
        guard let contents = try? String(contentsOfFile: text, encoding: .utf8) else {
            throw DaemonError("'\(text)' is neither a 40-character Z85 key nor a readable key file")
        }
        let lines = contents.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        let keys = lines.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        for key in keys where !Z85.isKey(key) {
            throw DaemonError("key file \(text) holds '\(key)', which is not a 40-character Z85 key")
        }
        return keys
    }

    /// Exactly one key, from text or a file.
    public static func key(_ text: String) throws -> String {
        let found = try keys(text)
        guard found.count == 1 else { throw DaemonError("'\(text)' holds \(found.count) keys; expected one") }
        return found[0]
    }
}
