// Shared plumbing for the end-to-end tests (EndToEnd*.swift): temp
// directories, a daemon on a background thread, a PUSH producer, a stats
// poller, and the launcher for the real `streamrecd` executable.
// Everything talks over real ZeroMQ sockets on loopback; nothing is mocked.

import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import StreamRecCore
import StreamRecServer
import XCTest
import ZeroMQ

// MARK: - Temp directories

/// A fresh directory under the system temp dir, removed by the test's teardown.
func e2eTemporaryDirectory(_ test: XCTestCase, _ name: String = "data") -> String {
    let base = FileManager.default.temporaryDirectory
        .appendingPathComponent("streamrec-e2e-\(UUID().uuidString)")
    let dir = base.appendingPathComponent(name).path
    XCTAssertNoThrow(try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true))
    test.addTeardownBlock { try? FileManager.default.removeItem(at: base) }
    return dir
}

/// The snapshot files (`snapshot-*.srs`) in `directory`, oldest first.
func e2eSnapshotFiles(in directory: String) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    return names.filter { $0.hasPrefix("snapshot-") && $0.hasSuffix(".srs") }.sorted().map { directory + "/" + $0 }
}

// MARK: - Logging

/// Collects log lines so a test can look at what the daemon said.
final class E2ELogSink: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []

    func append(_ line: String) {
        lock.lock()
        stored.append(line)
        lock.unlock()
    }

    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}

/// A swift-log handler writing into an `E2ELogSink` (no global bootstrap needed).
struct E2ELogHandler: LogHandler {
    let sink: E2ELogSink
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        sink.append("\(event.level) \(event.message)")
    }
}

// MARK: - JSON helpers

enum E2E {
    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try bytes.withUnsafeBytes { try JSONParser.parse($0) }
    }

    static func op(_ name: String, _ members: (String, JSONValue)...) -> JSONValue {
        .object([("op", .string(name))] + members.map { (key: $0.0, value: $0.1) })
    }

    static func id(_ value: UInt64) -> JSONValue { .number(String(value)) }

    /// The `events_rejected` counter for `reason` in a stats reply.
    static func rejected(_ stats: JSONValue, _ reason: String) -> Double? {
        stats["events_rejected"]?[reason]?.double
    }

    /// Sends `request` and fails the test (returning nil) when there is no reply.
    static func ask(_ client: QueryClient, _ request: JSONValue,
                    file: StaticString = #filePath, line: UInt = #line) -> JSONValue? {
        do {
            return try client.request(request)
        } catch {
            XCTFail("request \(request.text) failed: \(error)", file: file, line: line)
            return nil
        }
    }

    /// Raw reply bytes for `request`, for byte-for-byte comparisons.
    static func askBytes(_ client: QueryClient, _ request: JSONValue,
                         file: StaticString = #filePath, line: UInt = #line) -> [UInt8]? {
        do {
            return try client.requestBytes(request.bytes)
        } catch {
            XCTFail("request \(request.text) failed: \(error)", file: file, line: line)
            return nil
        }
    }

    /// Polls `stats` until `done` holds or `timeout` passes; returns the last
    /// stats reply, and fails the test on timeout.
    @discardableResult
    static func waitForStats(_ client: QueryClient, timeout: Double = 10, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line,
                             until done: (JSONValue) -> Bool) -> JSONValue? {
        let deadline = Date().addingTimeInterval(timeout)
        var last: JSONValue?
        while true {
            do {
                last = try client.request(op("stats"))
            } catch {
                XCTFail("stats failed while waiting for \(what): \(error)", file: file, line: line)
                return nil
            }
            if let last, done(last) { return last }
            if Date() > deadline {
                XCTFail("timed out after \(timeout) s waiting for \(what); last stats: \(last?.text ?? "none")",
                        file: file, line: line)
                return last
            }
            usleep(5_000)
        }
    }

    /// Waits until the daemon has applied `count` events in total.
    @discardableResult
    static func waitForApplied(_ client: QueryClient, _ count: Int, timeout: Double = 10,
                               file: StaticString = #filePath, line: UInt = #line) -> JSONValue? {
        waitForStats(client, timeout: timeout, "events_applied == \(count)", file: file, line: line) {
            ($0["events_applied"]?.double ?? -1) >= Double(count)
        }
    }
}

// MARK: - Producer

/// A ZeroMQ PUSH socket connected to a daemon's ingest endpoint.
final class E2EPusher {
    let socket: Socket

    /// `configure` runs before connecting (e.g. to set CURVE keys).
    init(_ endpoint: String, context: Context? = nil, configure: (Socket) throws -> Void = { _ in }) throws {
        socket = try Socket(context ?? Context(), .push)
        try socket.setOption(SocketOption.linger, Int32(0))
        try socket.setOption(SocketOption.sendTimeout, Int32(5000))
        try configure(socket)
        try socket.connect(endpoint)
    }

    func send(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        // A throw is recorded as a failure by XCTAssertTrue itself.
        XCTAssertTrue(try socket.send(bytes), "PUSH send timed out or failed", file: file, line: line)
    }

    func send(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        send(Array(text.utf8), file: file, line: line)
    }

    /// Sends the events as single-object messages and as array batches of `batch`.
    func send(objects: ArraySlice<RatingEvent>, file: StaticString = #filePath, line: UInt = #line) {
        for event in objects { send(EventEncoder.json(event).bytes, file: file, line: line) }
    }

    func send(batchesOf batch: Int, _ events: ArraySlice<RatingEvent>,
              file: StaticString = #filePath, line: UInt = #line) {
        var start = events.startIndex
        while start < events.endIndex {
            let end = min(start + batch, events.endIndex)
            send(EventEncoder.jsonBatch(Array(events[start..<end])), file: file, line: line)
            start = end
        }
    }
}

// MARK: - A data set with known answers

/// A small deterministic stream of ratings, with the facts tests check against.
struct E2EDataset {
    var events: [RatingEvent] = []

    /// `users` numeric users; user u rates `perUser` distinct items out of
    /// `items` numbered from `firstItem`, with ratings 1...`topRating`; plus a
    /// text-ID user rating a text-ID item. (With `topRating` 10 some ratings
    /// reach the default positive threshold, 8, so the pairwise steps and the
    /// neighbour head learn too.)
    init(users: ClosedRange<UInt64> = 1...12, items: UInt64 = 30, perUser: UInt64 = 8, topRating: UInt64 = 5,
         firstItem: UInt64 = 100, textUser: String = "alice", textItem: String = "widget-\u{3b1}") {
        for u in users {
            for j in 0..<perUser {
                // 7 is coprime to 30, so j ↦ 7j mod 30 hits distinct items.
                let item = firstItem + (u * 3 + j * 7) % items
                events.append(RatingEvent(user: .number(u), item: .number(item), rating: Float((u + j) % topRating + 1)))
            }
        }
        events.append(RatingEvent(user: .text(textUser), item: .number(firstItem), rating: 5, timestamp: 1_700_000_000))
        events.append(RatingEvent(user: .text(textUser), item: .text(textItem), rating: 2))
        events.append(RatingEvent(user: .number(1), item: .text(textItem), rating: 4))
    }

    var users: Set<ExternalID> { Set(events.map(\.user)) }
    var items: Set<ExternalID> { Set(events.map(\.item)) }

    func seen(by user: ExternalID) -> Set<ExternalID> {
        Set(events.filter { $0.user == user }.map(\.item))
    }

    /// Items by number of distinct raters, most first, ties to the first seen.
    func popular() -> [(item: ExternalID, count: Int)] {
        var order: [ExternalID] = []
        var raters: [ExternalID: Set<ExternalID>] = [:]
        for event in events {
            if raters[event.item] == nil { order.append(event.item) }
            raters[event.item, default: []].insert(event.user)
        }
        let ranked = order.enumerated().sorted { a, b in
            let (ca, cb) = (raters[a.element]!.count, raters[b.element]!.count)
            return ca != cb ? ca > cb : a.offset < b.offset
        }
        return ranked.map { ($0.element, raters[$0.element]!.count) }
    }
}

/// An ID the way the daemon writes it in replies.
func e2eJSON(_ id: ExternalID) -> JSONValue {
    switch id {
    case .number(let value): return .number(String(value))
    case .text(let text): return .string(text)
    }
}

// MARK: - In-process daemon

/// A `Daemon` serving on a Foundation `Thread`, on `tcp://127.0.0.1:*` ports.
final class E2EDaemonRunner: @unchecked Sendable {
    let daemon: Daemon
    let logs = E2ELogSink()
    private let finished = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var runError: Error?
    private var stopped = false

    /// Builds (restoring from `dataDirectory`) and starts the daemon.
    init(dataDirectory: String, telemetry: Telemetry = Telemetry(), configure: (inout DaemonConfig) -> Void = { _ in }) throws {
        var config = DaemonConfig()
        config.pullEndpoint = "tcp://127.0.0.1:*"
        config.repEndpoint = "tcp://127.0.0.1:*"
        config.dataDirectory = dataDirectory
        config.snapshotInterval = 0
        // Background replay changes answers while idle; tests that compare
        // answers turn it on explicitly.
        config.replayRate = 0
        configure(&config)
        let sink = logs
        let logger = Logger(label: "streamrecd-e2e") { _ in E2ELogHandler(sink: sink) }
        daemon = try Daemon(config: config, logger: logger, telemetry: telemetry)
        let thread = Thread { [self] in
            do {
                try daemon.run()
            } catch {
                lock.lock()
                runError = error
                lock.unlock()
            }
            finished.signal()
        }
        thread.name = "streamrecd-e2e"
        thread.start()
    }

    var pullEndpoint: String { daemon.pullEndpoint }
    var repEndpoint: String { daemon.repEndpoint }

    func client(timeout: Double = 5) throws -> QueryClient {
        try QueryClient(endpoint: repEndpoint, timeout: timeout)
    }

    func pusher() throws -> E2EPusher { try E2EPusher(pullEndpoint) }

    /// Asks the daemon to stop and waits (bounded) for `run` to return.
    /// Fails the test on timeout or when `run` threw; returns true on a clean stop.
    @discardableResult
    func stop(timeout: Double = 10, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        lock.lock()
        let already = stopped
        stopped = true
        lock.unlock()
        if already { return true }
        daemon.requestStop()
        guard finished.wait(timeout: .now() + timeout) == .success else {
            XCTFail("daemon did not stop within \(timeout) s", file: file, line: line)
            return false
        }
        lock.lock()
        let error = runError
        lock.unlock()
        if let error {
            XCTFail("daemon.run() threw: \(error)", file: file, line: line)
            return false
        }
        return true
    }
}

// MARK: - The streamrecd executable

enum E2EExecutable {
    /// `name` in the build products directory (where the .xctest bundle lives).
    static func url(_ name: String) -> URL? {
        var candidates: [URL] = []
        for base in [Bundle(for: E2EExecutableAnchor.self).bundleURL, Bundle.main.bundleURL,
                     URL(fileURLWithPath: CommandLine.arguments.first ?? ".")] {
            candidates.append(base)
            candidates.append(base.deletingLastPathComponent())
        }
        for dir in candidates {
            let url = dir.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue,
               FileManager.default.isExecutableFile(atPath: url.path) {
                return url
            }
        }
        return nil
    }

    /// A TCP port that was free a moment ago (bound to port 0, read back, closed).
    static func freePort() -> UInt16? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { return nil }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { return nil }
        return UInt16(bigEndian: address.sin_port)
    }
}

private final class E2EExecutableAnchor {}

extension XCTestCase {
    /// Starts `streamrecd` as a child process (`E2EDaemonProcess`), killed when
    /// the test ends. A daemon that exits at start because a port was taken
    /// (another process may take it between `freePort()` and the bind) is tried
    /// again on other ports, up to three times; any other exit at start fails
    /// at once, since restore may already have changed the data directory.
    func launchDaemon(_ dataDirectory: String, logs: String, tag: String, arguments: [String] = [],
                      shellPrefix: String? = nil) throws -> E2EDaemonProcess {
        guard let executable = E2EExecutable.url("streamrecd") else {
            XCTFail("streamrecd not found next to the test bundle; build it first: swift build --build-tests")
            throw DaemonError("no streamrecd executable")
        }
        var attempt = 1
        while true {
            do {
                let daemon = try E2EDaemonProcess(executable: executable, dataDirectory: dataDirectory, logDirectory: logs,
                                                  tag: "\(tag)-\(attempt)", arguments: arguments, shellPrefix: shellPrefix)
                addTeardownBlock { daemon.killIfRunning() }
                return daemon
            } catch let error as E2EDaemonProcess.Exited where attempt < 3 && error.stderr.contains("Address already in use") {
                print("streamrecd (\(tag)) exited at start, retrying with other ports: \(error)")
                attempt += 1
            }
        }
    }
}

/// One `streamrecd` child process with its own ports; stdout and stderr go to files.
final class E2EDaemonProcess {
    let process = Process()
    let pullEndpoint: String
    let repEndpoint: String
    let stderrPath: String
    let dataDirectory: String

    /// Launches `streamrecd` on `dataDirectory` with fresh ports and waits
    /// (bounded) until it answers `health`.
    /// `arguments` go after the defaults (a later flag wins); `shellPrefix`
    /// runs the daemon under `/bin/sh -c "<prefix>; exec streamrecd ..."`
    /// (e.g. `ulimit -f 64` to make writes fail as on a full disk).
    init(executable: URL, dataDirectory: String, logDirectory: String, tag: String, arguments: [String] = [],
         shellPrefix: String? = nil,
         file: StaticString = #filePath, line: UInt = #line) throws {
        guard let pullPort = E2EExecutable.freePort(), let repPort = E2EExecutable.freePort() else {
            throw DaemonError("no free TCP port on 127.0.0.1")
        }
        self.dataDirectory = dataDirectory
        pullEndpoint = "tcp://127.0.0.1:\(pullPort)"
        repEndpoint = "tcp://127.0.0.1:\(repPort)"
        stderrPath = logDirectory + "/streamrecd-\(tag).stderr"
        let stdoutPath = logDirectory + "/streamrecd-\(tag).stdout"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        process.executableURL = executable
        process.arguments = [
            "--pull", pullEndpoint, "--rep", repEndpoint, "--data-dir", dataDirectory,
            "--snapshot-interval", "0", "--replay-rate", "0", "--metrics", "off",
        ] + arguments
        if let shellPrefix {
            process.arguments = ["-c", shellPrefix + "; exec \"$0\" \"$@\"", executable.path] + process.arguments!
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
        }
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()

        // The REQ socket queues the request until the daemon has bound.
        let deadline = Date().addingTimeInterval(10)
        var healthy = false
        while Date() < deadline, process.isRunning {
            if let client = try? QueryClient(endpoint: repEndpoint, timeout: 0.5),
               let reply = try? client.request(E2E.op("health")), reply["ok"] == .bool(true) {
                healthy = true
                break
            }
        }
        if !healthy {
            let log = stderr
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw DaemonError("streamrecd (\(tag)) did not become healthy within 10 s; stderr:\n\(log)")
            }
            process.waitUntilExit()
            throw Exited(status: process.terminationStatus, stderr: log)
        }
    }

    /// The daemon exited before it answered `health` (e.g. a port was taken).
    struct Exited: Error, CustomStringConvertible {
        let status: Int32
        let stderr: String
        var description: String { "streamrecd exited with status \(status) at start; stderr:\n\(stderr)" }
    }

    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    func client(timeout: Double = 5) throws -> QueryClient {
        try QueryClient(endpoint: repEndpoint, timeout: timeout)
    }

    /// Waits (bounded) for the process to exit; SIGKILLs it and returns nil on timeout.
    func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    /// SIGTERM, then a bounded wait; returns (reason, status) or nil on timeout.
    func terminate(timeout: Double = 10) -> (reason: Process.TerminationReason, status: Int32)? {
        process.terminate()
        guard let status = waitForExit(timeout: timeout) else { return nil }
        return (process.terminationReason, status)
    }

    /// Kills the process without letting it write its final snapshot (a crash).
    func crash(timeout: Double = 10) -> Bool {
        kill(process.processIdentifier, SIGKILL)
        return waitForExit(timeout: timeout) != nil
    }

    /// Last resort for teardown.
    func killIfRunning() {
        if process.isRunning { _ = crash(timeout: 5) }
    }
}

/// Runs an executable to completion and returns its exit status and its
/// stdout and stderr together.
func e2eRun(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, output)
}
