import Logging
import ZeroMQ

extension Daemon {
    /// Applies `config.security` to the two sockets before they bind: with a
    /// server key, CURVE on both and a ZAP handler checking each socket's
    /// allow-list; without one, plaintext, and a loud warning for any
    /// endpoint reachable from another host.
    static func secure(pull: Socket, rep: Socket, context: Context, config: DaemonConfig, logger: Logger) throws -> ZAPHandler? {
        let security = config.security
        guard let secretKey = security.serverSecretKey else {
            for endpoint in [config.pullEndpoint, config.repEndpoint] where !isLoopback(endpoint) {
                logger.critical("""
                    SECURITY: \(endpoint) is reachable from other hosts WITHOUT CURVE: anyone who can reach it \
                    can push events and read recommendations. Set curve-secret-key, producer-keys and client-keys.
                    """)
            }
            return nil
        }
        guard CurveKeyPair.isAvailable else { throw DaemonError("this libzmq was built without CURVE support") }
        let zap = try ZAPHandler(context: context, allowed: [
            SecurityConfig.ingestDomain: Set(security.producerKeys),
            SecurityConfig.queryDomain: Set(security.clientKeys),
        ], logger: logger)
        for (socket, domain) in [(pull, SecurityConfig.ingestDomain), (rep, SecurityConfig.queryDomain)] {
            try socket.makeCurveServer(secretKey: secretKey)
            try socket.setOption(SocketOption.zapDomain, domain)
        }
        let publicKey = try CurveKeyPair(secretKey: secretKey).publicKey
        logger.info("CURVE on", metadata: [
            "server_public_key": "\(publicKey)", "producer_keys": "\(security.producerKeys.count)",
            "client_keys": "\(security.clientKeys.count)",
        ])
        for (list, name) in [(security.producerKeys, "producer-keys"), (security.clientKeys, "client-keys")] where list.isEmpty {
            logger.warning("CURVE is on and \(name) is empty: every such client will be refused")
        }
        return zap
    }

    /// True for endpoints only this host can reach: loopback TCP, ipc and inproc.
    static func isLoopback(_ endpoint: String) -> Bool {
        guard endpoint.hasPrefix("tcp://") else { return endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("inproc://") }
        var host = endpoint.dropFirst("tcp://".count)
        if let colon = host.lastIndex(of: ":") { host = host[..<colon] }
        host = host.split(separator: ";").last ?? host  // a "source;destination" form names the bound address last
        return host == "localhost" || host.hasPrefix("127.") || host == "[::1]" || host == "::1"
    }
}
