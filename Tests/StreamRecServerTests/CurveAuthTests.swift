// CURVE over real loopback sockets: a daemon with a server key and two
// allow-lists, clients with listed and unlisted keys.

import Foundation
import StreamRecCore
import StreamRecServer
import XCTest
import ZeroMQ

final class CurveAuthTests: XCTestCase {
    private let server = try! CurveKeyPair.generate()
    private let producer = try! CurveKeyPair.generate()
    private let queryClient = try! CurveKeyPair.generate()
    private let stranger = try! CurveKeyPair.generate()

    private func secureDaemon() throws -> E2EDaemonRunner {
        try XCTSkipUnless(CurveKeyPair.isAvailable, "libzmq without CURVE")
        let runner = try E2EDaemonRunner(dataDirectory: e2eTemporaryDirectory(self)) {
            $0.security.serverSecretKey = self.server.secretKey
            $0.security.producerKeys = [self.producer.publicKey]
            $0.security.clientKeys = [self.queryClient.publicKey]
        }
        addTeardownBlock { runner.stop() }
        return runner
    }

    private func client(_ runner: E2EDaemonRunner, _ keys: CurveKeyPair?, timeout: Double = 5) throws -> QueryClient {
        let curve = try keys.map { try CurveClientKeys(serverKey: server.publicKey, secretKey: $0.secretKey) }
        return try QueryClient(endpoint: runner.repEndpoint, timeout: timeout, curve: curve)
    }

    private func pusher(_ runner: E2EDaemonRunner, _ keys: CurveKeyPair) throws -> E2EPusher {
        let pusher = try E2EPusher(runner.pullEndpoint, configure: {
            try CurveClientKeys(serverKey: self.server.publicKey, secretKey: keys.secretKey).apply(to: $0)
        })
        return pusher
    }

    /// A listed query key gets answers; an unlisted key, a producer's key and a plaintext client get none.
    func testQuerySocketAdmitsOnlyListedClients() throws {
        let runner = try secureDaemon()
        let reply = try client(runner, queryClient).request(E2E.op("health"))
        XCTAssertEqual(reply["ok"], .bool(true))
        for (name, keys) in [("unlisted", stranger), ("producer", producer), ("plaintext", nil)] as [(String, CurveKeyPair?)] {
            XCTAssertThrowsError(try client(runner, keys, timeout: 0.5).request(E2E.op("health")), "\(name) client was answered")
        }
        XCTAssertTrue(runner.logs.lines.contains { $0.contains("refused key \(stranger.publicKey)") && $0.contains("query") },
                      runner.logs.lines.joined(separator: "\n"))
    }

    /// Events from a listed producer are applied; those from an unlisted one never reach the model.
    func testIngestSocketAdmitsOnlyListedProducers() throws {
        let runner = try secureDaemon()
        let unlisted = try pusher(runner, stranger)
        let wrongList = try pusher(runner, queryClient)
        let listed = try pusher(runner, producer)
        for sender in [unlisted, wrongList] {
            // Queued on the socket (it waits for its handshake), so only the daemon's refusal keeps it out.
            XCTAssertTrue(try sender.socket.send(Array(#"{"user":1,"item":2,"rating":3}"#.utf8), dontWait: true))
        }
        listed.send(#"{"user":7,"item":8,"rating":9}"#)
        let stats = E2E.waitForApplied(try client(runner, queryClient), 1)
        // A refusal on the ingest socket is logged (at most one line a second per socket): the handshakes are being
        // answered; the pause below gives the other one time too.
        let deadline = Date().addingTimeInterval(5)
        while !runner.logs.lines.contains(where: { $0.contains("CURVE: refused") && $0.contains("ingest") }), Date() < deadline {
            usleep(10_000)
        }
        XCTAssertTrue(runner.logs.lines.contains { $0.contains("CURVE: refused") && $0.contains("ingest") },
                      runner.logs.lines.joined(separator: "\n"))
        usleep(200_000)  // time for any refused message to have slipped through, were it admitted
        let later = try client(runner, queryClient).request(E2E.op("stats"))
        XCTAssertEqual(stats?["events_received"]?.double, 1)
        XCTAssertEqual(later["events_received"]?.double, 1, "an unlisted producer's event arrived")
        XCTAssertEqual(later["users"]?.double, 1)
    }

    /// Without CURVE, binding beyond loopback logs a critical SECURITY line; loopback binds stay quiet.
    func testPlaintextOffLoopbackIsLoud() throws {
        let open = try E2EDaemonRunner(dataDirectory: e2eTemporaryDirectory(self)) { $0.pullEndpoint = "tcp://0.0.0.0:*" }
        open.stop()
        XCTAssertTrue(open.logs.lines.contains { $0.hasPrefix("critical SECURITY: tcp://0.0.0.0:*") }, open.logs.lines.joined(separator: "\n"))
        let closed = try E2EDaemonRunner(dataDirectory: e2eTemporaryDirectory(self))
        closed.stop()
        XCTAssertFalse(closed.logs.lines.contains { $0.contains("SECURITY") })
    }
}
