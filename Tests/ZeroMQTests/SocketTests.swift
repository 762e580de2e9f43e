import Foundation
import XCTest
import ZeroMQ

/// Real libzmq sockets over loopback TCP on ports the OS picks.
final class SocketTests: XCTestCase {
    private func socket(_ context: Context, _ type: SocketType) throws -> Socket {
        let socket = try Socket(context, type)
        try socket.setOption(SocketOption.linger, Int32(0))
        try socket.setOption(SocketOption.receiveTimeout, Int32(5000))
        try socket.setOption(SocketOption.sendTimeout, Int32(5000))
        return socket
    }

    /// Binding tcp://127.0.0.1:* picks a real port, which lastEndpoint reports.
    func testLastEndpointHasRealPort() throws {
        let context = try Context()
        let pull = try socket(context, .pull)
        try pull.bind("tcp://127.0.0.1:*")
        let endpoint = pull.lastEndpoint
        XCTAssertTrue(endpoint.hasPrefix("tcp://127.0.0.1:"), endpoint)
        let port = Int(endpoint.split(separator: ":").last ?? "")
        XCTAssertNotNil(port, endpoint)
        XCTAssertGreaterThan(port ?? 0, 0)
    }

    /// A PUSH socket's messages arrive at the PULL socket intact and in order, including an empty and a binary message.
    func testPushPullRoundTrip() throws {
        let context = try Context()
        let pull = try socket(context, .pull)
        try pull.bind("tcp://127.0.0.1:*")
        let push = try socket(context, .push)
        try push.connect(pull.lastEndpoint)

        let binary: [UInt8] = (0...255).map { UInt8($0) }
        XCTAssertTrue(try push.send("hello"))
        XCTAssertTrue(try push.send([UInt8]()))
        XCTAssertTrue(try push.send(binary))
        XCTAssertEqual(try pull.receive().map { String(decoding: $0, as: UTF8.self) }, "hello")
        XCTAssertEqual(try pull.receive(), [])
        XCTAssertEqual(try pull.receive(), binary)
        // The closure form lends the bytes without copying.
        try push.send("lent")
        XCTAssertEqual(try pull.receive { $0.count }, 4)
    }

    /// `receiveWhole` lends a one-frame message's bytes and reports a three-frame message by its count, read to its end, so the next message arrives intact.
    func testReceiveWholeReportsMultipartMessages() throws {
        let context = try Context()
        let pull = try socket(context, .pull)
        try pull.bind("tcp://127.0.0.1:*")
        let push = try socket(context, .push)
        try push.connect(pull.lastEndpoint)

        try push.send("one")
        try push.send(Array("a".utf8), more: true)
        try push.send(Array("b".utf8), more: true)
        try push.send("c")
        try push.send("after")
        guard case .frame(let first)? = try pull.receiveWhole({ String(decoding: $0, as: UTF8.self) }) else {
            return XCTFail("the one-frame message was not lent as a frame")
        }
        XCTAssertEqual(first, "one")
        guard case .multipart(let frames)? = try pull.receiveWhole({ _ in XCTFail("lent a multipart frame") }) else {
            return XCTFail("the three-frame message was not reported as multipart")
        }
        XCTAssertEqual(frames, 3)
        XCTAssertEqual(try pull.receive().map { String(decoding: $0, as: UTF8.self) }, "after")
    }

    /// `hasInput` says whether a whole message is queued, without taking it: true with two queued, true after taking one, false after both.
    func testHasInputSeesQueuedMessagesOnly() throws {
        let context = try Context()
        let pull = try socket(context, .pull)
        try pull.bind("tcp://127.0.0.1:*")
        XCTAssertFalse(try pull.hasInput())
        let push = try socket(context, .push)
        try push.connect(pull.lastEndpoint)
        try push.send("one")
        try push.send("two")
        XCTAssertEqual(try pull.receive().map { String(decoding: $0, as: UTF8.self) }, "one")  // waits until they arrive
        XCTAssertTrue(try pull.hasInput(), "the second message is queued")
        XCTAssertEqual(try pull.receive().map { String(decoding: $0, as: UTF8.self) }, "two")
        XCTAssertFalse(try pull.hasInput(), "nothing is left")
    }

    /// A REQ/REP pair completes a request and its reply.
    func testRequestReplyRoundTrip() throws {
        let context = try Context()
        let rep = try socket(context, .rep)
        try rep.bind("tcp://127.0.0.1:*")
        let req = try socket(context, .req)
        try req.connect(rep.lastEndpoint)

        for k in 0..<3 {
            try req.send("ping \(k)")
            let request = try XCTUnwrap(try rep.receive())
            XCTAssertEqual(String(decoding: request, as: UTF8.self), "ping \(k)")
            try rep.send("pong \(k)")
            let reply = try XCTUnwrap(try req.receive())
            XCTAssertEqual(String(decoding: reply, as: UTF8.self), "pong \(k)")
        }
    }

    /// A non-blocking receive on a socket with nothing queued returns nil at once instead of blocking or throwing.
    func testDontWaitOnEmptySocketReturnsNil() throws {
        let context = try Context()
        let pull = try socket(context, .pull)
        try pull.bind("tcp://127.0.0.1:*")
        let start = Date()
        XCTAssertNil(try pull.receive(dontWait: true))
        XCTAssertNil(try pull.receive(dontWait: true) { _ in 1 })
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
    }

    /// A blocking receive past ZMQ_RCVTIMEO returns nil.
    func testReceiveTimeoutReturnsNil() throws {
        let context = try Context()
        let pull = try Socket(context, .pull)
        try pull.setOption(SocketOption.linger, Int32(0))
        try pull.setOption(SocketOption.receiveTimeout, Int32(50))
        try pull.bind("tcp://127.0.0.1:*")
        XCTAssertNil(try pull.receive())
    }

    /// Binding an unsupported transport throws a ZMQError whose description has the operation and zmq_strerror's text.
    func testBindInvalidEndpointThrows() throws {
        let context = try Context()
        let pull = try socket(context, .pull)
        XCTAssertThrowsError(try pull.bind("bogus://nowhere")) { error in
            guard let zmqError = error as? ZMQError else { return XCTFail("\(error)") }
            XCTAssertEqual(zmqError.code, EPROTONOSUPPORT)
            // libzmq's zmq_strerror falls back to strerror for system errnos.
            let text = String(cString: strerror(zmqError.code))
            XCTAssertEqual(zmqError.message, text)
            XCTAssertTrue(zmqError.description.contains(text), zmqError.description)
            XCTAssertTrue(zmqError.description.contains("Protocol not supported"), zmqError.description)
            XCTAssertTrue(zmqError.description.contains("bind bogus://nowhere"), zmqError.description)
        }
        XCTAssertThrowsError(try pull.bind("tcp://127.0.0.1:notaport")) { error in
            XCTAssertEqual((error as? ZMQError)?.code, EINVAL)
            XCTAssertTrue("\(error)".contains("Invalid argument"), "\(error)")
        }
    }

    /// Binding a port another socket holds throws EADDRINUSE.
    func testBindPortInUseThrows() throws {
        let context = try Context()
        let first = try socket(context, .pull), second = try socket(context, .pull)
        try first.bind("tcp://127.0.0.1:*")
        XCTAssertThrowsError(try second.bind(first.lastEndpoint)) { error in
            XCTAssertEqual((error as? ZMQError)?.code, EADDRINUSE)
            XCTAssertTrue("\(error)".contains("Address already in use"), "\(error)")
        }
    }

    /// A non-blocking send with no peer connected returns false (would block) instead of throwing.
    func testDontWaitSendWithoutPeerReturnsFalse() throws {
        let context = try Context()
        let push = try socket(context, .push)
        try push.bind("tcp://127.0.0.1:*")
        XCTAssertFalse(try push.send("nobody listens", dontWait: true))
    }
}

/// zmq_poll over several sockets.
final class PollerTests: XCTestCase {
    private func pull(_ context: Context) throws -> Socket {
        let socket = try Socket(context, .pull)
        try socket.setOption(SocketOption.linger, Int32(0))
        try socket.bind("tcp://127.0.0.1:*")
        return socket
    }

    /// The poller reports exactly the sockets with queued input, ignores disabled ones, and clears once they are drained.
    func testPollerReportsReadiness() throws {
        let context = try Context()
        let a = try pull(context), b = try pull(context)
        let push = try Socket(context, .push)
        try push.setOption(SocketOption.linger, Int32(0))
        try push.connect(b.lastEndpoint)
        var poller = Poller([a, b])

        XCTAssertEqual(try poller.poll(timeoutMilliseconds: 0, enabled: [true, true]), [false, false])
        try push.send("wake")
        XCTAssertEqual(try poller.poll(timeoutMilliseconds: 5000, enabled: [true, true]), [false, true])
        // Still queued: polling again reports it again, unless b is disabled.
        XCTAssertEqual(try poller.poll(timeoutMilliseconds: 0, enabled: [true, true]), [false, true])
        let start = Date()
        XCTAssertEqual(try poller.poll(timeoutMilliseconds: 100, enabled: [true, false]), [false, false])
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start), 0.05, "the poll waited for its timeout")

        XCTAssertEqual(try b.receive(dontWait: true), Array("wake".utf8))
        XCTAssertEqual(try poller.poll(timeoutMilliseconds: 0, enabled: [true, true]), [false, false])
    }
}
