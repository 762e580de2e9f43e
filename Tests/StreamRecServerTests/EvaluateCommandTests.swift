import Foundation
import XCTest

/// `streamrec evaluate`, run as the real executable on a real ratings file.
final class EvaluateCommandTests: XCTestCase {
    private func evaluate(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let executable = try XCTUnwrap(E2EExecutable.url("streamrec"), "streamrec not built")
        return try e2eRun(executable, ["evaluate"] + arguments)
    }

    /// A small stream: 40 users rating 30 items, every rating 1–10 present.
    private func ratingsFile() throws -> String {
        let path = e2eTemporaryDirectory(self) + "/ratings.tsv"
        var lines = ""
        for n in 0..<2_000 { lines += "\(n % 40)\t\((n * 7) % 30)\t\(1 + (n * 13) % 10)\n" }
        try lines.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `--hr-threshold` sets which ratings HR@N scores, and the model's
    /// `--positive-threshold` leaves it alone (the two were once one flag
    /// name on two options).
    func testHitRateThresholdIsItsOwnFlag() throws {
        let file = try ratingsFile()
        let own = try evaluate(["--stream", file, "--hr-every", "1", "--hr-threshold", "9"])
        XCTAssertEqual(own.status, 0, own.output)
        XCTAssertTrue(own.output.contains("every 1th rating >= 9.0)"), own.output)

        let model = try evaluate(["--stream", file, "--hr-every", "1", "--positive-threshold", "9"])
        XCTAssertEqual(model.status, 0, model.output)
        XCTAssertTrue(model.output.contains("every 1th rating >= 8.0)"), model.output)
        XCTAssertNotEqual(hits(own.output), hits(model.output), "HR@10 scored the same positives under both flags")
    }

    /// The "N hits in M scored positives" part of the HR@N line.
    private func hits(_ output: String) -> String? {
        output.split(separator: "\n").first { $0.hasPrefix("HR@") }.map { String($0.split(separator: "(")[1]) }
    }
}
