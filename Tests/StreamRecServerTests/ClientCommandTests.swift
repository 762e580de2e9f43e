import Foundation
import XCTest

/// The `streamrec` query commands, run as the real executable against a real daemon.
final class ClientCommandTests: XCTestCase {
    /// `streamrec health` prints the daemon's answer and exits 0 when it answers, and exits 1 naming the endpoint
    /// when nothing answers within --timeout (for scripts and container health checks).
    func testHealthExitsZeroOnlyWhenTheDaemonAnswers() throws {
        let executable = try XCTUnwrap(E2EExecutable.url("streamrec"), "streamrec not built")
        let runner = try E2EDaemonRunner(dataDirectory: e2eTemporaryDirectory(self))
        addTeardownBlock { runner.stop() }
        let up = try e2eRun(executable, ["health", "--rep", runner.repEndpoint])
        XCTAssertEqual(up.status, 0, up.output)
        XCTAssertTrue(up.output.contains(#"{"ok":true,"status":"ready"}"#), up.output)

        let nobody = "tcp://127.0.0.1:\(try XCTUnwrap(E2EExecutable.freePort()))"
        let down = try e2eRun(executable, ["health", "--rep", nobody, "--timeout", "0.5"])
        XCTAssertEqual(down.status, 1, down.output)
        XCTAssertTrue(down.output.contains("no reply from \(nobody) in time"), down.output)
    }

    /// With no --rep, the client connects to $STREAMREC_REP, the variable the daemon itself reads, and its help shows that default.
    func testClientReadsTheDaemonsEndpointVariable() throws {
        let executable = try XCTUnwrap(E2EExecutable.url("streamrec"), "streamrec not built")
        let runner = try E2EDaemonRunner(dataDirectory: e2eTemporaryDirectory(self))
        addTeardownBlock { runner.stop() }
        var environment = ProcessInfo.processInfo.environment
        environment["STREAMREC_REP"] = runner.repEndpoint
        let up = try e2eRun(executable, ["health", "--timeout", "2"], environment: environment)
        XCTAssertEqual(up.status, 0, up.output)
        XCTAssertTrue(up.output.contains(#""status":"ready""#), up.output)

        let help = try e2eRun(executable, ["stats", "--help"], environment: environment)
        XCTAssertTrue(help.output.contains("(default: \(runner.repEndpoint))"), "help shows the default in effect: \(help.output)")
    }
}
