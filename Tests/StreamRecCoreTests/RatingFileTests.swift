import Foundation
import XCTest
@testable import StreamRecCore

/// Reading rating files: separators, headers, comments, gzip and error reporting.
final class RatingFileTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("srcore-ratings-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func write(_ name: String, _ text: String) throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    private func readAll(_ path: String) throws -> [RatingEvent] {
        var events: [RatingEvent] = []
        try RatingFile(path: path).forEach { events.append($0) }
        return events
    }

    /// A TSV file with a header line: the header is skipped, IDs canonicalized, timestamps optional.
    func testTSVWithHeader() throws {
        let path = try write("r.tsv", "user\titem\trating\tts\n1\t10\t4.5\t1700000000\nalice\t042\t3\n\n# comment\n2\t10\t-1.25\t5\n")
        XCTAssertEqual(try readAll(path), [
            RatingEvent(user: .number(1), item: .number(10), rating: 4.5, timestamp: 1_700_000_000),
            RatingEvent(user: .text("alice"), item: .text("042"), rating: 3, timestamp: nil),
            RatingEvent(user: .number(2), item: .number(10), rating: -1.25, timestamp: 5),
        ])
    }

    /// A CSV file with CRLF line ends and no trailing newline reads every line.
    func testCSVWithCRLF() throws {
        let path = try write("r.csv", "userId,movieId,rating,timestamp\r\n1,31,2.5,1260759144\r\n1,1029,3.0,1260759179\r\n7,x,5")
        let events = try readAll(path)
        XCTAssertEqual(events.map(\.user), [.number(1), .number(1), .number(7)])
        XCTAssertEqual(events.map(\.item), [.number(31), .number(1029), .text("x")])
        XCTAssertEqual(events.map(\.rating), [2.5, 3.0, 5])
        XCTAssertEqual(events.map(\.timestamp), [1_260_759_144, 1_260_759_179, nil])
    }

    /// A gzip file (made by /bin/gzip) reads the same events as the plain file, across many 64 KiB read buffers.
    func testGzipFile() throws {
        var text = "user item rating\n"
        for k in 0..<20_000 { text += "\(k % 97) item\(k % 31) \(k % 5 + 1)\n" }
        let path = try write("big.txt", text)
        let plain = try readAll(path)
        XCTAssertEqual(plain.count, 20_000)
        XCTAssertEqual(plain[12_345], RatingEvent(user: .number(UInt64(12_345 % 97)), item: .text("item\(12_345 % 31)"),
                                                  rating: Float(12_345 % 5 + 1)))

        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-k", "-f", path]
        try gzip.run()
        gzip.waitUntilExit()
        XCTAssertEqual(gzip.terminationStatus, 0)
        let compressed = try AtomicFile.read(path + ".gz")
        XCTAssertEqual(Array(compressed.prefix(2)), [0x1F, 0x8B], "really a gzip file")
        XCTAssertLessThan(compressed.count, text.utf8.count / 2)

        XCTAssertEqual(try readAll(path + ".gz"), plain)

        // Cut short, the same stream is an error naming the file, not a shorter list of events.
        let truncated = path + ".cut.gz"
        try Array(compressed.prefix(compressed.count / 2)).withUnsafeBytes { try AtomicFile.write($0, to: truncated) }
        XCTAssertThrowsError(try readAll(truncated)) { error in
            XCTAssertTrue("\(error)".contains("\(truncated): truncated or damaged gzip data"), "\(error)")
        }
    }

    /// A first line that is not a header's shape (two fields) is an error, not silently skipped as a header.
    func testShortFirstLineIsNotAHeader() throws {
        let path = try write("short.tsv", "3\t11\n4\t5\t6\n")
        XCTAssertThrowsError(try readAll(path)) { error in
            XCTAssertTrue("\(error)".contains("short.tsv:1: expected"), "\(error)")
        }
    }

    /// A malformed line after the first throws FormatError.invalid naming the file and its line number.
    func testBadLineReportsLineNumber() throws {
        let path = try write("bad.tsv", "1\t2\t3\n\n4\t5\tfive\n6\t7\t8\n")
        var seen = 0
        XCTAssertThrowsError(try RatingFile(path: path).forEach { _ in seen += 1 }) { error in
            guard case .invalid(let why)? = error as? FormatError else { return XCTFail("\(error)") }
            XCTAssertTrue(why.contains("bad.tsv:3:"), why)
        }
        XCTAssertEqual(seen, 1, "events before the bad line were delivered")
    }

    /// A non-integer timestamp and a non-finite rating are errors with their line numbers.
    func testBadTimestampAndRating() throws {
        let ts = try write("ts.tsv", "1 2 3 4\n1 2 3 soon\n")
        XCTAssertThrowsError(try readAll(ts)) { error in
            XCTAssertTrue("\(error)".contains("ts.tsv:2:"), "\(error)")
            XCTAssertTrue("\(error)".contains("timestamp"), "\(error)")
        }
        let inf = try write("inf.tsv", "1 2 3\n1 2 inf\n")
        XCTAssertThrowsError(try readAll(inf)) { error in
            XCTAssertTrue("\(error)".contains("inf.tsv:2:"), "\(error)")
        }
    }

    /// Opening a missing file throws a FileError.
    func testMissingFile() {
        XCTAssertThrowsError(try RatingFile(path: directory + "/absent.tsv")) { error in
            XCTAssertTrue(error is FileError, "\(error)")
        }
    }
}
