import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The operators' HTTP endpoint: `/metrics` (Prometheus text), `/health/live`
/// and `/health/ready`. It runs on its own NIO thread and reads only the
/// thread-safe `Telemetry`, never the model.
///
/// Built on swift-nio's NIOHTTP1 rather than a web framework: three GET routes
/// need no router, and NIO alone adds far less build time (README, "Metrics").
public final class MetricsHTTPServer: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    /// The address actually bound, `host:port` (a port 0 is resolved).
    public let address: String

    /// Binds `host:port` and starts serving at once, so liveness answers
    /// while the daemon is still restoring its snapshot.
    public init(host: String, port: Int, telemetry: Telemetry) throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            channel = try ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(HTTPHandler(telemetry: telemetry))
                    }
                }
                .bind(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            // NIO's IOError reads "bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)"; give the reason plainly.
            let reason = (error as? IOError).map { String(cString: strerror($0.errnoCode)) } ?? "\(error)"
            throw DaemonError("cannot serve metrics on \(host):\(port): \(reason) "
                + "(another streamrecd there? give --metrics another HOST:PORT, or --metrics off)")
        }
        address = "\(host):\(channel.localAddress?.port ?? port)"
    }

    /// Closes the listener and stops the thread.
    public func shutdown() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }
}

/// Answers one request per HTTP message; anything but GET/HEAD on a known path is an error status.
private final class HTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let telemetry: Telemetry
    private var request: HTTPRequestHead?

    init(telemetry: Telemetry) { self.telemetry = telemetry }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): request = head
        case .body: break
        case .end:
            guard let head = request else { return }
            request = nil
            let (status, type, body) = respond(to: head)
            var headers = HTTPHeaders([("Content-Type", type), ("Content-Length", "\(body.count)")])
            if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            if head.method != .HEAD {
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            }
            let keepAlive = head.isKeepAlive
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { context.close(promise: nil) }
            }
        }
    }

    private func respond(to head: HTTPRequestHead) -> (HTTPResponseStatus, String, [UInt8]) {
        let text = "text/plain; charset=utf-8"
        guard head.method == .GET || head.method == .HEAD else { return (.methodNotAllowed, text, Array("GET only\n".utf8)) }
        switch head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri {
        case "/metrics": return (.ok, "text/plain; version=0.0.4; charset=utf-8", telemetry.exposition())
        case "/health/live": return (.ok, text, Array("live\n".utf8))
        case "/health/ready":
            return telemetry.isReady ? (.ok, text, Array("ready\n".utf8)) : (.serviceUnavailable, text, Array("not ready\n".utf8))
        default: return (.notFound, text, Array("try /metrics, /health/live or /health/ready\n".utf8))
        }
    }
}

/// A `host:port` for the HTTP endpoint.
public struct MetricsAddress: Sendable {
    public let host: String
    public let port: Int

    public init(_ text: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port), colon != text.startIndex else {
            throw DaemonError("metrics address '\(text)' is not HOST:PORT (or 'off')")
        }
        host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        self.port = port
    }
}
