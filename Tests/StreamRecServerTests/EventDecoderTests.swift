import XCTest
import StreamRecCore
@testable import StreamRecServer

/// Turning ingest messages into events, all or nothing.
final class EventDecoderTests: XCTestCase {
    private let limits = EventLimits(maxIDBytes: 256, maxAbsRating: 1e6)

    private func decode(_ text: String) -> Result<[RatingEvent], Rejection> {
        Array(text.utf8).withUnsafeBytes { EventDecoder.decode($0, limits: limits) }
    }

    private func rejection(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Rejection? {
        switch decode(text) {
        case .success(let events):
            XCTFail("accepted \(text) as \(events)", file: file, line: line)
            return nil
        case .failure(let rejection):
            return rejection
        }
    }

    /// A single event object decodes with canonical IDs, its rating and its timestamp.
    func testSingleObject() throws {
        let events = try decode(#"{"user": 1, "item": "abc", "rating": 4.5, "ts": 1700000000}"#).get()
        XCTAssertEqual(events, [RatingEvent(user: .number(1), item: .text("abc"), rating: 4.5, timestamp: 1_700_000_000)])
        let stringly = try decode(#"{"user": "1", "item": "042", "rating": -2, "ts": null}"#).get()
        XCTAssertEqual(stringly, [RatingEvent(user: .number(1), item: .text("042"), rating: -2, timestamp: nil)])
        let big = try decode(#"{"user": 18446744073709551615, "item": 18446744073709551616, "rating": 1}"#).get()
        XCTAssertEqual(big.first?.user, .number(UInt64.max))
        XCTAssertEqual(big.first?.item, .text("18446744073709551616"))
    }

    /// An array of events decodes to all of them, in order.
    func testArray() throws {
        let events = try decode(#"[{"user":1,"item":2,"rating":3},{"user":"u","item":"i","rating":0.5,"ts":7},{"item":9,"rating":1,"user":8}]"#).get()
        XCTAssertEqual(events.map(\.user), [.number(1), .text("u"), .number(8)])
        XCTAssertEqual(events.map(\.item), [.number(2), .text("i"), .number(9)])
        XCTAssertEqual(events.map(\.rating), [3, 0.5, 1])
        XCTAssertEqual(events.map(\.timestamp), [nil, 7, nil])
    }

    /// A missing user, item or rating is a bad event naming the field.
    func testMissingFields() {
        for (text, field) in [(#"{"item":2,"rating":3}"#, "user"), (#"{"user":1,"rating":3}"#, "item"), (#"{"user":1,"item":2}"#, "rating")] {
            let r = rejection(text)
            XCTAssertEqual(r?.reason, .badEvent, text)
            XCTAssertEqual(r?.events, 1)
            XCTAssertTrue(r?.detail.contains("missing \"\(field)\"") ?? false, r?.detail ?? "")
        }
    }

    /// Fields of the wrong JSON type are rejected with the matching reason.
    func testWrongTypes() {
        let cases: [(String, RejectReason)] = [
            (#"{"user":true,"item":2,"rating":3}"#, .badID),
            (#"{"user":null,"item":2,"rating":3}"#, .badID),
            (#"{"user":1,"item":[2],"rating":3}"#, .badID),
            (#"{"user":1,"item":{"id":2},"rating":3}"#, .badID),
            (#"{"user":1,"item":2,"rating":"3"}"#, .badRating),
            (#"{"user":1,"item":2,"rating":null}"#, .badRating),
            (#"{"user":1,"item":2,"rating":true}"#, .badRating),
            (#"{"user":1,"item":2,"rating":3,"ts":"yesterday"}"#, .badEvent),
            (#"[1]"#, .badEvent),
            (#""just a string""#, .badEvent),
            (#"42"#, .badEvent),
            (#"null"#, .badEvent),
            (#"{"user":1,"item":2,"rating":3"#, .notJSON),
            ("not json", .notJSON),
        ]
        for (text, reason) in cases {
            XCTAssertEqual(rejection(text)?.reason, reason, text)
        }
    }

    /// Ratings that overflow to infinity (1e999, 1e39 as a Float) or exceed the limit, even by less than a Float can tell, are rejected; underflow to 0 is fine.
    func testNonFiniteAndOutOfRangeRatings() throws {
        for rating in ["1e999", "-1e999", "1e39", "1000001", "-1e7", "1000000.03", "-1000000.03"] {
            XCTAssertEqual(rejection(#"{"user":1,"item":2,"rating":\#(rating)}"#)?.reason, .badRating, rating)
        }
        XCTAssertEqual(try decode(#"{"user":1,"item":2,"rating":1000000}"#).get().first?.rating, 1e6)
        XCTAssertEqual(try decode(#"{"user":1,"item":2,"rating":1e-999}"#).get().first?.rating, 0)
        XCTAssertEqual(rejection(#"{"user":1,"item":2,"rating":3,"ts":1e999}"#)?.reason, .badEvent)
        XCTAssertEqual(rejection(#"{"user":1,"item":2,"rating":3,"ts":1e16}"#)?.reason, .badEvent)
    }

    /// Empty IDs and IDs longer than the byte limit (counted in UTF-8 bytes, not characters) are rejected.
    func testEmptyAndOverlongIDs() throws {
        XCTAssertEqual(rejection(#"{"user":"","item":2,"rating":3}"#)?.reason, .badID)
        XCTAssertEqual(rejection(#"{"user":1,"item":"","rating":3}"#)?.reason, .badID)
        let max = String(repeating: "a", count: 256)
        XCTAssertEqual(try decode(#"{"user":"\#(max)","item":2,"rating":3}"#).get().first?.user, .text(max))
        XCTAssertEqual(rejection(#"{"user":"\#(max)a","item":2,"rating":3}"#)?.reason, .badID)
        let accents = String(repeating: "é", count: 128)  // 256 bytes
        XCTAssertNoThrow(try decode(#"{"user":1,"item":"\#(accents)","rating":3}"#).get())
        XCTAssertEqual(rejection(#"{"user":1,"item":"\#(accents)é","rating":3}"#)?.reason, .badID)
        let digits = String(repeating: "1", count: 257)
        XCTAssertEqual(rejection(#"{"user":\#(digits),"item":2,"rating":3}"#)?.reason, .badID, "long numbers are IDs too")
    }

    /// One bad event rejects the whole batch, counted as the batch's size, with the bad event's reason and position.
    func testOneBadEventRejectsWholeBatch() throws {
        let batch = #"[{"user":1,"item":2,"rating":3},{"user":1,"item":3,"rating":4},{"user":1,"item":4,"rating":1e999},{"user":1,"item":5,"rating":4},{"user":1,"item":6,"rating":2}]"#
        let r = try XCTUnwrap(rejection(batch))
        XCTAssertEqual(r.reason, .badRating)
        XCTAssertEqual(r.events, 5)
        XCTAssertTrue(r.detail.contains("event #2 of 5"), r.detail)
        XCTAssertTrue(r.detail.contains("whole batch dropped"), r.detail)
        let notObject = try XCTUnwrap(rejection(#"[{"user":1,"item":2,"rating":3}, 7]"#))
        XCTAssertEqual(notObject.reason, .badEvent)
        XCTAssertEqual(notObject.events, 2)
    }

    /// EventEncoder's output decodes back to the same events (the producer and daemon agree on the wire format).
    func testEncoderRoundTrip() throws {
        let events = [RatingEvent(user: .number(UInt64.max), item: .text("i\"tem"), rating: 4.25, timestamp: 1_700_000_000),
                      RatingEvent(user: .text("042"), item: .number(0), rating: -1, timestamp: nil)]
        let decoded = EventEncoder.jsonBatch(events).withUnsafeBytes { EventDecoder.decode($0, limits: limits) }
        XCTAssertEqual(try decoded.get(), events)
    }
}
