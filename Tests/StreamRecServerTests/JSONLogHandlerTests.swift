import Logging
import StreamRecCore
import StreamRecServer
import XCTest

final class JSONLogHandlerTests: XCTestCase {
    /// A JSON log line parses as one object carrying the text format's fields: time, level, label, metadata, source, message.
    func testLineCarriesTheTextFields() throws {
        let lines = Locked<[String]>([])
        let logger = Logger(label: "streamrecd") { label in
            JSONLogHandler(label: label, write: { line in lines.withLock { $0.append(line) } })
        }
        logger.info("snapshot \"written\"\nfine", metadata: ["bytes": "42"])
        logger.debug("below the level: not written")
        let written = lines.withLock { $0 }
        XCTAssertEqual(written.count, 1)
        let line = try XCTUnwrap(written.first)
        XCTAssertTrue(line.hasSuffix("}\n") && !line.dropLast().contains("\n"), "not one line: \(line)")
        let json = try E2E.parse(Array(line.utf8))
        XCTAssertEqual(json["level"], .string("info"))
        XCTAssertEqual(json["label"], .string("streamrecd"))
        XCTAssertEqual(json["message"], .string("snapshot \"written\"\nfine"))
        XCTAssertEqual(json["metadata"]?["bytes"], .string("42"))
        XCTAssertEqual(json["source"], .string("StreamRecServerTests"))
        guard case .string(let time)? = json["time"] else { return XCTFail("no time in \(line)") }
        XCTAssertTrue(time.hasSuffix("Z") && time.count == 24, time)
    }
}
