import XCTest
@testable import StreamRecServer

/// The strict JSON parser: what it accepts, what it keeps verbatim, and what it rejects.
final class JSONParserTests: XCTestCase {
    private func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try bytes.withUnsafeBytes { try JSONParser.parse($0) }
    }

    private func assertRejects(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try JSONParser.parse(text), "accepted \(text.debugDescription)", file: file, line: line) { error in
            XCTAssertTrue(error is JSONParseError, "\(error)", file: file, line: line)
        }
    }

    private func assertRejects(bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(bytes), "accepted \(bytes)", file: file, line: line) { error in
            XCTAssertTrue(error is JSONParseError, "\(error)", file: file, line: line)
        }
    }

    /// A document with every kind of value parses to the expected tree, with object members in order.
    func testValidDocument() throws {
        let value = try JSONParser.parse(#" { "b" : [1, 2.5, -3e2, true, false, null, "x"], "a": {}, "c": [] } "#)
        XCTAssertEqual(value, .object([
            ("b", .array([.number("1"), .number("2.5"), .number("-3e2"), .bool(true), .bool(false), .null, .string("x")])),
            ("a", .object([])),
            ("c", .array([])),
        ]))
        XCTAssertEqual(value["b"], .array([.number("1"), .number("2.5"), .number("-3e2"), .bool(true), .bool(false), .null, .string("x")]))
        XCTAssertNil(value["missing"])
        XCTAssertEqual(try JSONParser.parse("\t\r\n 7 \n"), .number("7"))
        XCTAssertEqual(try JSONParser.parse(#""""#), .string(""))
    }

    /// Numbers keep their literal text, so 64-bit IDs and formatting survive exactly.
    func testNumbersKeepLiteralText() throws {
        for literal in ["18446744073709551615", "18446744073709551616", "1.50", "-0", "0", "1E+2", "1e-7", "-0.0e0", "123456789012345678901234567890"] {
            XCTAssertEqual(try JSONParser.parse(literal), .number(literal), literal)
        }
        XCTAssertEqual(try JSONParser.parse("[18446744073709551615]"), .array([.number("18446744073709551615")]))
        XCTAssertEqual(JSONValue.number("2.50").double, 2.5)
        XCTAssertNil(JSONValue.string("2.5").double)
    }

    /// Every escape decodes, including \u escapes, upper-case hex and a surrogate pair for a non-BMP character.
    func testEscapes() throws {
        XCTAssertEqual(try JSONParser.parse(#""\"\\\/\b\f\n\r\t""#), .string("\"\\/\u{08}\u{0C}\n\r\t"))
        XCTAssertEqual(try JSONParser.parse(#""caf\u00e9 \u00E9""#), .string("café é"))
        XCTAssertEqual(try JSONParser.parse(#""\ud83d\ude00""#), .string("😀"))
        XCTAssertEqual(try JSONParser.parse(#""a\uD83D\uDE00b""#), .string("a😀b"))
        XCTAssertEqual(try JSONParser.parse(#""\u0000""#), .string("\u{0}"))
        XCTAssertEqual(try JSONParser.parse("\"raw ünïcødé 🎉\""), .string("raw ünïcødé 🎉"))
    }

    /// Broken escapes are rejected: unknown escape, short or non-hex \u, lone or mismatched surrogates.
    func testBadEscapes() {
        for text in [#""\x""#, #""\u12""#, #""\u12G4""#, #""\ud83d""#, #""\ud83dx""#, #""\ud83d\u0041""#,
                     #""\udc00""#, #""\ud83d\ud83d""#, #""abc\"#, #""\"#] {
            assertRejects(text)
        }
    }

    /// Nesting up to 32 levels parses; 33 is rejected, and a 100 000-deep attack is rejected without exhausting the stack.
    func testNestingLimit() throws {
        XCTAssertEqual(JSONParser.maxDepth, 32)
        let ok = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        XCTAssertNoThrow(try JSONParser.parse(ok))
        assertRejects(String(repeating: "[", count: 33) + String(repeating: "]", count: 33))
        let objects = String(repeating: #"{"a":"#, count: 31) + "{}" + String(repeating: "}", count: 31)
        XCTAssertNoThrow(try JSONParser.parse(objects))
        assertRejects(String(repeating: #"{"a":"#, count: 32) + "{}" + String(repeating: "}", count: 32))
        // A scalar inside 32 arrays is a 33rd level.
        assertRejects(String(repeating: "[", count: 32) + "1" + String(repeating: "]", count: 32))
        XCTAssertThrowsError(try JSONParser.parse(String(repeating: "[", count: 100_000))) { error in
            XCTAssertTrue("\(error)".contains("nested deeper"), "\(error)")
        }
    }

    /// Anything after the value other than whitespace is rejected, and the error points at it.
    func testTrailingGarbage() throws {
        for text in ["{} x", "1 2", "{}}", "[1]]", "true false", "\"a\"\"b\"", "nullx", "1,"] {
            assertRejects(text)
        }
        XCTAssertThrowsError(try JSONParser.parse("{}  x")) { error in
            XCTAssertEqual((error as? JSONParseError)?.offset, 4)
        }
    }

    /// Malformed numbers are rejected: leading zeros, bare signs, missing digits, and forms JSON lacks.
    func testBadNumbers() {
        for text in ["01", "-01", "00", "007", "+1", "-", ".5", "1.", "1.e3", "1e", "1e+", "0x10", "NaN", "Infinity", "-Infinity", "1_000"] {
            assertRejects(text)
        }
    }

    /// Raw control characters inside strings are rejected, on the fast path and after an escape.
    func testControlCharactersRejected() {
        assertRejects(bytes: [0x22, 0x61, 0x01, 0x62, 0x22])
        assertRejects(bytes: Array("\"line\nbreak\"".utf8))
        assertRejects(bytes: Array("\"tab\tafter\\n escape\"".utf8))
        assertRejects(bytes: [0x22, 0x5C, 0x6E, 0x1F, 0x22])
    }

    /// Invalid UTF-8 in a string is rejected: stray continuation, 0xFF, overlong, truncated sequence, encoded surrogate.
    func testInvalidUTF8Rejected() {
        for bad: [UInt8] in [[0xFF], [0x80], [0xC0, 0xAF], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF5, 0x80, 0x80, 0x80]] {
            assertRejects(bytes: [0x22] + bad + [0x22])
            assertRejects(bytes: [0x22, 0x5C, 0x6E] + bad + [0x22])  // after an escape (slow path)
            assertRejects(bytes: Array(#"{""#.utf8) + bad + Array(#"":1}"#.utf8))  // as a key
        }
    }

    /// Truncated or malformed structure is rejected: empty input, misspelt literals, missing separators.
    func testMalformedStructure() {
        for text in ["", "   ", "tru", "nul", "True", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{a:1}", "{\"a\":1,}", "[1 2]", "{\"a\":1 \"b\":2}", "[", "{", "\"open", "'single'"] {
            assertRejects(text)
        }
        XCTAssertThrowsError(try JSONParser.parse("[1,]")) { error in
            XCTAssertEqual((error as? JSONParseError)?.offset, 3)
            XCTAssertTrue("\(error)".contains("byte 3"), "\(error)")
        }
    }
}

/// JSONWriter: compact output that parses back to the same value.
final class JSONWriterTests: XCTestCase {
    /// Writing then parsing gives back the same value for every kind of value and awkward strings.
    func testRoundTrip() throws {
        let value = JSONValue.object([
            ("ok", .bool(true)),
            ("n", .number("18446744073709551615")),
            ("f", .number("-1.5e-3")),
            ("s", .string("quote \" backslash \\ slash / nl \n cr \r tab \t bell \u{07} nul \u{0} us \u{1F} é 😀")),
            ("a", .array([.null, .bool(false), .array([]), .object([])])),
            ("nested", .object([("x", .array([.string(""), .number("0")]))])),
        ])
        XCTAssertEqual(try JSONParser.parse(value.text), value)
        XCTAssertEqual(try value.bytes.withUnsafeBytes { try JSONParser.parse($0) }, value)
    }

    /// Output is compact, keeps member order, and escapes control characters as \u00XX.
    func testCompactText() {
        let value = JSONValue.object([("b", .array([.number("1"), .bool(true), .null])), ("a", .string("x\"y\u{01}\n"))])
        XCTAssertEqual(value.text, #"{"b":[1,true,null],"a":"x\"y\u0001\n"}"#)
    }

    /// Canonical compact documents survive parse → write unchanged.
    func testParseWriteIsIdentityOnCompactText() throws {
        for text in [#"{"ok":false,"error":"x"}"#, "[1,2.50,-0,1E+2]", #""\u001f""#, "null", #"{"a":{"b":{"c":[[]]}}}"#] {
            XCTAssertEqual(try JSONParser.parse(text).text, text)
        }
    }

    /// Non-finite floats become null (JSON has no number for them); finite ones round-trip through their text.
    func testFloatNumbers() {
        XCTAssertEqual(JSONValue.number(Float.nan), .null)
        XCTAssertEqual(JSONValue.number(Float.infinity), .null)
        XCTAssertEqual(JSONValue.number(Float(3.25)), .number("3.25"))
        XCTAssertEqual(JSONValue.number(Float(0.1)).double.map(Float.init), 0.1)
        XCTAssertEqual(JSONValue.number(UInt64.max), .number("18446744073709551615"))
    }
}
