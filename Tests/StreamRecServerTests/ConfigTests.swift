// Config layers: YAML file < environment < flags, through ConfigLoader and
// through the real streamrecd's --print-config.

import Foundation
import StreamRecServer
import XCTest

final class ConfigTests: XCTestCase {
    private func file(_ text: String) throws -> String {
        let path = e2eTemporaryDirectory(self, "config") + "/streamrec.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The environment beats the file, the file beats the defaults, and list keys take YAML sequences.
    func testEnvironmentOverridesFileOverridesDefaults() throws {
        let key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
        let path = try file("data-dir: /from/file\nfactors: 16\nmetrics: off\nclient-keys:\n  - \"\(key)\"\n")
        let config = try ConfigLoader.load(file: path, environment: ["STREAMREC_DATA_DIR": "/from/env", "HOME": "/ignored"])
        XCTAssertEqual(config.dataDirectory, "/from/env")
        XCTAssertEqual(config.model.factors, 16)
        XCTAssertNil(config.metricsAddress)
        XCTAssertEqual(config.security.clientKeys, [key])
        XCTAssertEqual(config.snapshotInterval, DaemonConfig().snapshotInterval)
    }

    /// An unknown key in the file, an unknown STREAMREC_ variable and a bad value are errors that name the culprit;
    /// a typo of a known name is answered with that name, and a name like no other gets no guess.
    func testUnknownKeysAreNamed() throws {
        let path = try file("factors: 8\nsnapshot-intervall: 5\n")
        XCTAssertThrowsError(try ConfigLoader.load(file: path, environment: [:])) {
            XCTAssertTrue("\($0)".contains("unknown key 'snapshot-intervall' (did you mean snapshot-interval?)"), "\($0)")
        }
        XCTAssertThrowsError(try ConfigLoader.load(file: nil, environment: ["STREAMREC_FACTORZ": "3"])) {
            XCTAssertTrue("\($0)".contains("STREAMREC_FACTORZ (did you mean STREAMREC_FACTORS?)"), "\($0)")
        }
        XCTAssertThrowsError(try ConfigLoader.load(file: try file("colour: blue\n"), environment: [:])) {
            XCTAssertTrue("\($0)".contains("unknown key 'colour'; known keys:"), "\($0)")
        }
        XCTAssertThrowsError(try ConfigLoader.load(file: nil, environment: ["STREAMREC_ZZZ": "1"])) {
            XCTAssertTrue("\($0)".hasSuffix("unknown environment variable STREAMREC_ZZZ"), "\($0)")
        }
        XCTAssertThrowsError(try ConfigLoader.load(file: nil, environment: ["STREAMREC_FACTORS": "many"])) {
            XCTAssertTrue("\($0)".contains("'factors'"), "\($0)")
        }
    }

    /// streamrecd --print-config shows flags over environment over file, and exits non-zero naming an unknown file key.
    func testPrintConfigShowsPrecedence() throws {
        let executable = try XCTUnwrap(E2EExecutable.url("streamrecd"), "build streamrecd first")
        let path = try file("data-dir: /file\nrep: tcp://127.0.0.1:7001\npull: tcp://127.0.0.1:7000\nfactors: 16\n")
        let (status, output) = try run(executable, ["--config", path, "--factors", "8", "--print-config"],
                                       environment: ["STREAMREC_REP": "tcp://127.0.0.1:7002", "STREAMREC_FACTORS": "12"])
        XCTAssertEqual(status, 0, output)
        let lines = Set(output.split(separator: "\n").map(String.init))
        for expected in ["data-dir: /file", "pull: tcp://127.0.0.1:7000", "rep: tcp://127.0.0.1:7002", "factors: 8"] {
            XCTAssertTrue(lines.contains(expected), "missing '\(expected)' in:\n\(output)")
        }
        let bad = try file("colour: blue\n")
        let (badStatus, badOutput) = try run(executable, ["--config", bad, "--print-config"], environment: [:])
        XCTAssertNotEqual(badStatus, 0)
        XCTAssertTrue(badOutput.contains("unknown key 'colour'"), badOutput)
    }

    private func run(_ executable: URL, _ arguments: [String], environment: [String: String]) throws -> (Int32, String) {
        try e2eRun(executable, arguments, environment: environment)
    }
}
