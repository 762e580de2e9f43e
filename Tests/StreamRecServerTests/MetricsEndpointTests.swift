// /metrics and /health/* over real HTTP, served by MetricsHTTPServer next to
// an in-process daemon on loopback.

import StreamRecCore
import StreamRecServer
import XCTest
import ZeroMQ

final class MetricsEndpointTests: XCTestCase {
    private func serve(_ telemetry: Telemetry) throws -> MetricsHTTPServer {
        let server = try MetricsHTTPServer(host: "127.0.0.1", port: 0, telemetry: telemetry)
        addTeardownBlock { server.shutdown() }
        return server
    }

    /// Counters on /metrics move with the traffic (applied, rejected by reason, queries by op including the front's multipart refusal, users and items), and every metric family has a help text.
    func testCountersFollowTraffic() throws {
        let telemetry = Telemetry()
        let server = try serve(telemetry)
        let runner = try E2EDaemonRunner(dataDirectory: e2eTemporaryDirectory(self), telemetry: telemetry)
        defer { runner.stop() }
        let before = try XCTUnwrap(httpGet(server.address, "/metrics"))
        XCTAssertEqual(before.status, 200)
        XCTAssertEqual(metricValue(before.body, "streamrec_events_applied_total"), 0, before.body)

        let data = E2EDataset()
        let pusher = try runner.pusher()
        pusher.send(batchesOf: 10, data.events[...])
        pusher.send("not json")
        pusher.send(#"{"user":"","item":1,"rating":3}"#)
        let client = try runner.client()
        E2E.waitForStats(client, "every message taken") { ($0["events_received"]?.double ?? 0) >= Double(data.events.count + 2) }
        _ = E2E.ask(client, E2E.op("top", ("user", .number("1"))))
        _ = E2E.ask(client, E2E.op("no-such-op"))
        // A multipart request, which the front refuses without the engine.
        let raw = try Socket(Context(), .req)
        try raw.setOption(SocketOption.receiveTimeout, Int32(5000))
        try raw.setOption(SocketOption.linger, Int32(0))
        try raw.connect(runner.repEndpoint)
        try raw.send(E2E.op("health").bytes, more: true)
        try raw.send(E2E.op("stats").bytes)
        XCTAssertNotNil(try raw.receive(), "the multipart request is answered")
        // The loop refreshes metrics at most every 50 ms; wait for the refresh.
        let after = try XCTUnwrap(scrape(server, until: [
            ("streamrec_events_applied_total", Double(data.events.count)),
            (#"streamrec_events_rejected_total{reason="bad_id"}"#, 1),
            ("streamrec_users", Double(data.users.count)),
            (#"streamrec_queries_total{op="invalid"}"#, 1),
        ]))
        XCTAssertEqual(metricValue(after, "streamrec_events_applied_total"), Double(data.events.count), after)
        XCTAssertEqual(metricValue(after, "streamrec_events_received_total"), Double(data.events.count + 2))
        XCTAssertEqual(metricValue(after, #"streamrec_events_rejected_total{reason="not_json"}"#), 1)
        XCTAssertEqual(metricValue(after, #"streamrec_events_rejected_total{reason="bad_id"}"#), 1)
        XCTAssertEqual(metricValue(after, #"streamrec_queries_total{op="top"}"#), 1)
        XCTAssertEqual(metricValue(after, #"streamrec_queries_total{op="unknown"}"#), 1)
        XCTAssertEqual(metricValue(after, #"streamrec_queries_total{op="invalid"}"#), 1, "the multipart request counts")
        XCTAssertGreaterThanOrEqual(metricValue(after, #"streamrec_queries_total{op="stats"}"#) ?? 0, 1)
        XCTAssertEqual(metricValue(after, #"streamrec_query_duration_seconds_count{op="top"}"#), 1)
        XCTAssertEqual(metricValue(after, "streamrec_users"), Double(data.users.count))
        XCTAssertEqual(metricValue(after, "streamrec_items"), Double(data.items.count))
        XCTAssertGreaterThan(metricValue(after, "streamrec_model_bytes") ?? 0, 0)
        // Every metric family (one `# TYPE` line each) says what it measures, once.
        let lines = after.split(separator: "\n")
        let families = lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        XCTAssertEqual(Set(families).count, 14, "\(families.sorted())")
        for family in families {
            let help = lines.filter { $0.hasPrefix("# HELP \(family) ") }
            XCTAssertEqual(help.count, 1, "HELP lines for \(family)")
            XCTAssertGreaterThan(help.first?.count ?? 0, "# HELP \(family) ".count + 10, "\(family) has a help text")
        }

        let snapshot = try XCTUnwrap(E2E.ask(client, E2E.op("snapshot")))
        let withSnapshot = try XCTUnwrap(scrape(server, until: [("streamrec_snapshot_bytes", snapshot["bytes"]?.double ?? -1)]))
        XCTAssertEqual(metricValue(withSnapshot, "streamrec_snapshot_bytes"), snapshot["bytes"]?.double, withSnapshot)
        XCTAssertNotNil(metricValue(withSnapshot, "streamrec_snapshot_age_seconds"))
    }

    /// Scrapes /metrics until every metric reads its value (or 5 s pass) and returns the last body.
    private func scrape(_ server: MetricsHTTPServer, until expected: [(String, Double)]) -> String? {
        let deadline = Clock.monotonic() + 5
        var body: String?
        repeat {
            body = httpGet(server.address, "/metrics")?.body
            if let body, expected.allSatisfy({ metricValue(body, $0.0) == $0.1 }) { break }
            usleep(10_000)
        } while Clock.monotonic() < deadline
        return body
    }

    /// /health/ready answers 503 until the daemon has restored its snapshot and bound both sockets, then 200; /health/live is 200 throughout.
    func testReadinessFlipsOnlyAfterRestore() throws {
        let dir = e2eTemporaryDirectory(self)
        let first = try E2EDaemonRunner(dataDirectory: dir)
        addTeardownBlock { first.stop() }
        let pusher = try first.pusher()
        pusher.send(batchesOf: 10, E2EDataset().events[...])
        E2E.waitForApplied(try first.client(), E2EDataset().events.count)
        first.stop()  // writes the snapshot the second daemon restores

        let telemetry = Telemetry()
        let server = try serve(telemetry)
        XCTAssertEqual(httpGet(server.address, "/health/live")?.status, 200)
        XCTAssertEqual(httpGet(server.address, "/health/ready")?.status, 503, "ready before any restore")
        let second = try E2EDaemonRunner(dataDirectory: dir, telemetry: telemetry)
        addTeardownBlock { second.stop() }
        XCTAssertEqual(httpGet(server.address, "/health/ready")?.status, 200)
        let stats = try XCTUnwrap(E2E.ask(try second.client(), E2E.op("stats")))
        XCTAssertEqual(stats["model_events"]?.double, Double(E2EDataset().events.count), "ready, but the snapshot was not restored")
        second.stop()
        XCTAssertEqual(httpGet(server.address, "/health/ready")?.status, 503, "still ready after shutdown")
        XCTAssertEqual(httpGet(server.address, "/nowhere")?.status, 404)
    }
}
