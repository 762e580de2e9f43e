import XCTest
@testable import StreamRecCore

/// Canonicalization of external IDs and the ID ↔ row map.
final class ExternalIDTests: XCTestCase {
    private func fromUTF8(_ text: String) -> ExternalID {
        Array(text.utf8).withUnsafeBytes { ExternalID(utf8: $0) }
    }

    /// Canonical unsigned decimals become `.number`, so the string "42" and the number 42 are one ID.
    func testCanonicalDecimalsAreNumbers() {
        XCTAssertEqual(ExternalID("42"), .number(42))
        XCTAssertEqual(ExternalID("0"), .number(0))
        XCTAssertEqual(ExternalID("18446744073709551615"), .number(UInt64.max))
        XCTAssertEqual(fromUTF8("42"), .number(42))
        XCTAssertEqual(fromUTF8("18446744073709551615"), .number(UInt64.max))
    }

    /// Non-canonical text (leading zero, sign, empty, overflow, spaces, letters) stays `.text` verbatim.
    func testNonCanonicalStaysText() {
        for text in ["042", "00", "-5", "+5", "", "18446744073709551616", "99999999999999999999",
                     "184467440737095516150", " 42", "42 ", "4.0", "1e3", "abc", "０"] {
            XCTAssertEqual(ExternalID(text), .text(text), "\"\(text)\"")
            XCTAssertEqual(fromUTF8(text), .text(text), "\"\(text)\" via UTF-8")
        }
    }

    /// description gives back the ID's decimal text and utf8Count its length in bytes.
    func testDescriptionAndLength() {
        XCTAssertEqual(ExternalID.number(UInt64.max).description, "18446744073709551615")
        XCTAssertEqual(ExternalID.number(42).utf8Count, 2)
        XCTAssertEqual(ExternalID.text("héllo").utf8Count, 6)
        XCTAssertEqual(ExternalID("042").description, "042")
    }

    /// intern gives dense rows in order of first appearance and reports whether the ID was new; index(of:) finds them.
    func testInternAndIndex() {
        var map = IDMap()
        XCTAssertEqual(map.index(of: .number(7)), nil)
        XCTAssertTrue(map.intern(.number(7)) == (0, true))
        XCTAssertTrue(map.intern(.text("seven")) == (1, true))
        XCTAssertTrue(map.intern(ExternalID("7")) == (0, false), "\"7\" canonicalizes to the number 7")
        XCTAssertTrue(map.intern(.number(UInt64.max)) == (2, true))
        XCTAssertEqual(map.count, 3)
        XCTAssertEqual(map.index(of: .text("seven")), 1)
        XCTAssertEqual(map.index(of: .number(UInt64.max)), 2)
        XCTAssertEqual(map.index(of: .text("eight")), nil)
        XCTAssertEqual(map.externals, [.number(7), .text("seven"), .number(UInt64.max)])
    }

    /// IDMap(externals:) rebuilds the same rows and rejects a list with a duplicate ID.
    func testRebuildFromExternals() throws {
        let ids: [ExternalID] = [.number(3), .text("a"), .number(1)]
        let map = try IDMap(externals: ids)
        XCTAssertEqual(map.externals, ids)
        XCTAssertEqual(map.index(of: .number(1)), 2)
        XCTAssertEqual(map.index(of: .text("a")), 1)
        XCTAssertThrowsError(try IDMap(externals: [.number(3), .text("a"), .number(3)])) { error in
            XCTAssertEqual(error as? ModelError, .duplicateID("3"))
        }
        XCTAssertThrowsError(try IDMap(externals: [.text("x"), .text("x")])) { error in
            XCTAssertEqual(error as? ModelError, .duplicateID("x"))
        }
    }
}
