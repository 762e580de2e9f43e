// The front thread and the worker pool on real ZeroMQ sockets (a ROUTER on
// loopback, inproc behind it), with an `answer` function that says which
// stop answered each request, so the path a request took is visible.

import Dispatch
import Foundation
import StreamRecCore
@testable import StreamRecServer
import XCTest
import ZeroMQ

final class QueryWorkersTests: XCTestCase {
    /// A pool on a fresh ROUTER; `answer` gets each request body as text and the stop asking.
    private func startPool(workers: Int, context: Context,
                           answer: @escaping @Sendable (String, QueryStop) -> String?) throws -> (QueryWorkers, String) {
        let frontend = try Socket(context, .router)
        try frontend.setOption(SocketOption.linger, Int32(0))
        try frontend.bind("tcp://127.0.0.1:*")
        let pool = try QueryWorkers(context: context, frontend: frontend, count: workers) { request, stop in
            answer(String(decoding: request, as: UTF8.self), stop).map { Array($0.utf8) }
        }
        return (pool, frontend.lastEndpoint)
    }

    private func ask(_ endpoint: String, _ text: String, timeout: Double = 10) throws -> String {
        let client = try QueryClient(endpoint: endpoint, timeout: timeout)
        return String(decoding: try client.requestBytes(Array(text.utf8)), as: UTF8.self)
    }

    /// A light request is answered by the front while the only worker is stuck on a heavy one.
    func testLightRequestIsAnsweredWhileTheOnlyWorkerIsBusy() throws {
        let entered = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let (pool, endpoint) = try startPool(workers: 1, context: try Context()) { text, stop in
            if text == "heavy" {
                guard stop == .worker else { return nil }
                entered.signal()
                release.wait()
            }
            return "\(stop) \(text)"
        }
        // Released first, so that a failed check never leaves the worker stuck and `stop` waiting for it.
        defer { pool.stop() }
        defer { release.signal() }
        let heavyReply = Locked<String?>(nil)
        let heavy = TestThreads(1) { _ in
            let reply = try? self.ask(endpoint, "heavy")
            heavyReply.withLock { $0 = reply }
        }
        XCTAssertEqual(entered.wait(timeout: .now() + 10), .success, "the heavy request never reached the worker")

        XCTAssertEqual(try ask(endpoint, "light", timeout: 5), "front light")
        XCTAssertNil(heavyReply.withLock { $0 }, "the heavy request was answered before the worker was released")

        release.signal()
        XCTAssertTrue(heavy.finished(within: 10))
        XCTAssertEqual(heavyReply.withLock { $0 }, "worker heavy")
    }

    /// An idle front answers a middling request itself; with the only worker busy it hands the same request on, so it waits for the worker; idle again, it answers.
    func testIdleFrontAnswersMoreButHandsOnWhileAWorkerIsBusy() throws {
        let entered = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let (pool, endpoint) = try startPool(workers: 1, context: try Context()) { text, stop in
            switch text {
            case "heavy":
                guard stop == .worker else { return nil }
                entered.signal()
                release.wait()
            case "middling" where stop < .idleFront: return nil
            default: break
            }
            return "\(stop) \(text)"
        }
        defer { pool.stop() }
        defer { release.signal() }
        XCTAssertEqual(try ask(endpoint, "middling"), "idleFront middling")

        let heavy = TestThreads(1) { _ in _ = try? self.ask(endpoint, "heavy") }
        XCTAssertEqual(entered.wait(timeout: .now() + 10), .success, "the heavy request never reached the worker")
        // Past `SoloClientWatch.window`, so only the busy worker keeps the front from answering.
        usleep(50_000)
        let middling = Locked<String?>(nil)
        let asking = TestThreads(1) { _ in
            let reply = try? self.ask(endpoint, "middling")
            middling.withLock { $0 = reply }
        }
        usleep(200_000)
        XCTAssertNil(middling.withLock { $0 }, "the front answered a middling request while a worker was busy")
        release.signal()
        XCTAssertTrue(heavy.finished(within: 10))
        XCTAssertTrue(asking.finished(within: 10))
        XCTAssertEqual(middling.withLock { $0 }, "worker middling")
        // Each `ask` is a new client: after a quiet window the next is alone again.
        usleep(50_000)
        XCTAssertEqual(try ask(endpoint, "middling"), "idleFront middling")
    }

    /// Many REQ clients at once, half answered at the front and half by workers, each get their own replies.
    func testConcurrentClientsGetTheirOwnReplies() throws {
        let (pool, endpoint) = try startPool(workers: 2, context: try Context()) { text, stop in
            // Either front stop is "front" here: whether the front was idle depends on timing.
            text.hasPrefix("heavy") && stop < .worker ? nil : "\(stop < .worker ? "front" : "\(stop)") \(text)"
        }
        defer { pool.stop() }
        let wrong = ManagedCounter(), right = ManagedCounter()
        let clients = TestThreads(16) { c in
            guard let client = try? QueryClient(endpoint: endpoint, timeout: 10) else { return wrong.increment() }
            for n in 0..<100 {
                let text = "\(n % 2 == 0 ? "light" : "heavy")-\(c)-\(n)"
                let expected = "\(n % 2 == 0 ? "front" : "worker") \(text)"
                let reply = (try? client.requestBytes(Array(text.utf8))).map { String(decoding: $0, as: UTF8.self) }
                reply == expected ? right.increment() : wrong.increment()
            }
        }
        XCTAssertTrue(clients.finished(within: 60))
        XCTAssertEqual(wrong.value, 0)
        XCTAssertEqual(right.value, 1600)
    }

    /// A request neither the front nor a worker answers goes through a worker to the loop's endpoint and its reply comes back.
    func testLoopRequestsTravelThroughAWorker() throws {
        let context = try Context()
        let loop = try Socket(context, .rep)
        try loop.setOption(SocketOption.linger, Int32(0))
        try loop.setOption(SocketOption.receiveTimeout, Int32(10_000))
        try loop.bind(QueryWorkers.loopEndpoint)
        let (pool, endpoint) = try startPool(workers: 1, context: context) { text, stop in
            text == "observe" ? nil : "\(stop) \(text)"
        }
        defer { pool.stop() }
        let reply = Locked<String?>(nil)
        let asking = TestThreads(1) { _ in
            let answer = try? self.ask(endpoint, "observe")
            reply.withLock { $0 = answer }
        }
        let forwarded = try XCTUnwrap(try loop.receive())
        XCTAssertEqual(String(decoding: forwarded, as: UTF8.self), "observe")
        try loop.send("loop observe")
        XCTAssertTrue(asking.finished(within: 10))
        XCTAssertEqual(reply.withLock { $0 }, "loop observe")
    }

    /// The front and worker threads carry names the kernel shows (`top -H`, /proc).
    func testThreadsAreNamedForTheKernel() throws {
        // Only this pool's threads count, not those of another pool or daemon in this process.
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? [])
        let (pool, endpoint) = try startPool(workers: 2, context: try Context()) { text, _ in "up \(text)" }
        defer { pool.stop() }
        XCTAssertEqual(try ask(endpoint, "light"), "up light")  // the front thread is up
        var names: Set<String> = []
        let deadline = Date().addingTimeInterval(5)
        while !names.isSuperset(of: ["sr-front", "sr-query-0", "sr-query-1"]), Date() < deadline {
            let tasks = Set((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []).subtracting(before)
            names = Set(tasks.compactMap { task in
                (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            })
            usleep(10_000)
        }
        XCTAssertTrue(names.isSuperset(of: ["sr-front", "sr-query-0", "sr-query-1"]), "threads: \(names.sorted())")
    }
}
