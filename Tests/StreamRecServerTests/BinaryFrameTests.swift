import Foundation
import XCTest
import StreamRecCore
@testable import StreamRecServer

/// The binary ingest format: round trips, and all-or-nothing under damage.
final class BinaryFrameTests: XCTestCase {
    private let limits = EventLimits(maxIDBytes: 24, maxAbsRating: 10)

    private let events = [
        RatingEvent(user: .number(1), item: .number(UInt64.max), rating: 4.5),
        RatingEvent(user: .text("alice"), item: .text("widget-\u{3b1}"), rating: -2, timestamp: 1_700_000_000),
        RatingEvent(user: .number(0), item: .text("042"), rating: 10, timestamp: -5),
    ]

    private func decode(_ frame: [UInt8]) -> Result<[RatingEvent], Rejection> {
        frame.withUnsafeBytes { BinaryFrameDecoder.decode($0, limits: limits) }
    }

    private func makeEngine() -> Engine {
        Engine(model: Model(settings: ModelSettings(factors: 4, learningRate: 0.05, regularization: 0.02, seed: 1)),
               limits: limits, maxMessageBytes: 1 << 16)
    }

    /// Every event shape (integer and text IDs, with and without timestamp) comes back exactly, and an empty batch is valid.
    func testRoundTrip() throws {
        XCTAssertEqual(try decode(BinaryFrame.encode(events)).get(), events)
        XCTAssertEqual(try decode(BinaryFrame.encode([])).get(), [])
        for event in events { XCTAssertEqual(try decode(BinaryFrame.encode([event])).get(), [event]) }
    }

    /// A text ID that is a canonical decimal is the same ID as the integer, as in JSON.
    func testTextDigitsAreTheIntegerID() throws {
        var frame = BinaryFrame.encode([RatingEvent(user: .text("x"), item: .number(7), rating: 1)])
        frame[9] = UInt8(ascii: "9")  // the one-byte text user "x" becomes "9"
        XCTAssertEqual(try decode(frame).get().first?.user, .number(9))
    }

    /// The magic byte cannot start JSON, and the engine routes by it.
    func testMagicIsNotJSON() {
        XCTAssertFalse([UInt8(ascii: "{"), UInt8(ascii: "["), 0x20, 0x09, 0x0A, 0x0D].contains(BinaryFrame.magic))
        var engine = makeEngine()
        XCTAssertNil(BinaryFrame.encode(events).withUnsafeBytes { engine.ingest($0) })
        XCTAssertEqual(engine.counters.applied, 3)
        XCTAssertEqual(engine.model.users.count, 3)
    }

    /// Every truncation, a wrong count, a huge count, a huge text length, unknown flags or version, and trailing bytes are `bad_frame`, counted as one event.
    func testBrokenFramesAreBadFrame() {
        let frame = BinaryFrame.encode(events)
        var broken: [[UInt8]] = (0..<frame.count).map { Array(frame[..<$0]) }
        func patched(_ offset: Int, _ bytes: [UInt8]) -> [UInt8] {
            var copy = frame
            copy.replaceSubrange(offset ..< offset + bytes.count, with: bytes)
            return copy
        }
        broken.append(patched(2, [4, 0, 0, 0]))                 // one event more than there is
        broken.append(patched(2, [2, 0, 0, 0]))                 // one fewer: trailing bytes
        broken.append(patched(2, [0xFF, 0xFF, 0xFF, 0xFF]))     // four billion events
        broken.append(patched(1, [2]))                          // unknown version
        broken.append(patched(6, [0x80]))                       // unknown flag bit
        broken.append(patched(6 + 1 + 8 + 8 + 4 + 1, [0xFF, 0xFF])) // text length 65535
        broken.append(frame + [0])
        for bad in broken {
            guard case .failure(let rejection) = decode(bad) else { return XCTFail("accepted \(bad)") }
            XCTAssertEqual(rejection.reason, .badFrame, "\(bad)")
            XCTAssertEqual(rejection.events, 1)
        }
    }

    /// A well-formed frame with one bad value is refused whole under that value's reason, counting all its events.
    func testBadValuesRejectTheWholeBatch() {
        let cases: [(RatingEvent, RejectReason)] = [
            (RatingEvent(user: .number(1), item: .number(2), rating: .nan), .badRating),
            (RatingEvent(user: .number(1), item: .number(2), rating: 11), .badRating),
            (RatingEvent(user: .text(""), item: .number(2), rating: 1), .badID),
            (RatingEvent(user: .text(String(repeating: "x", count: 25)), item: .number(2), rating: 1), .badID),
            (RatingEvent(user: .number(1), item: .number(2), rating: 1, timestamp: Int64.max), .badEvent),
            (RatingEvent(user: .number(1), item: .number(2), rating: 1, timestamp: Int64.min), .badEvent),
        ]
        for (bad, reason) in cases {
            var engine = makeEngine()
            let rejection = BinaryFrame.encode(events + [bad]).withUnsafeBytes { engine.ingest($0) }
            XCTAssertEqual(rejection?.reason, reason, "\(bad)")
            XCTAssertEqual(rejection?.events, 4)
            XCTAssertEqual(engine.counters.applied, 0)
            XCTAssertEqual(engine.counters.received, 4)
            XCTAssertEqual(engine.model.eventsApplied, 0, "nothing of the batch was learned")
        }
        var invalidUTF8 = BinaryFrame.encode([RatingEvent(user: .text("ab"), item: .number(2), rating: 1)])
        invalidUTF8[9] = 0xC3  // a lead byte followed by ASCII
        guard case .failure(let rejection) = decode(invalidUTF8) else { return XCTFail("accepted invalid UTF-8") }
        XCTAssertEqual(rejection.reason, .badID)
    }

    /// Applied binary frames go to the write-ahead log (refused ones do not), and recovery from it rebuilds the same model.
    func testBinaryFramesAreLogged() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("streamrec-binlog-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        var engine = makeEngine()
        let start = engine.model
        engine.journal = LogWriter(directory: dir, policy: .always, nextSequence: 0, now: 0) { XCTFail($1) }
        _ = BinaryFrame.encode(events).withUnsafeBytes { engine.ingest($0) }
        _ = Array(BinaryFrame.encode(events).dropLast()).withUnsafeBytes { engine.ingest($0) }
        engine.journal?.close(now: 1)
        var recovered = start
        _ = try LogRecovery.recover(model: &recovered, from: 0, directory: dir, repair: false)
        XCTAssertEqual(recovered.eventsApplied, 3)
        XCTAssertTrue(recovered == engine.model, "the log rebuilds the model the frames built")
    }

    /// Seeded random damage (byte flips, cuts, splices) never crashes, and a frame either applies whole or leaves the model untouched; counters always add up.
    func testFuzzedFramesApplyWholeOrNotAtAll() {
        var rng = SplitMix64(seed: 2024)
        var engine = makeEngine()
        let base = BinaryFrame.encode(events + events)
        for _ in 0..<3000 {
            var frame = base
            switch rng.next() % 3 {
            case 0:
                for _ in 0...(rng.next() % 4) { frame[Int(rng.next() % UInt64(frame.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            case 1:
                frame.removeLast(Int(rng.next() % UInt64(frame.count)))
            default:
                let at = Int(rng.next() % UInt64(frame.count))
                frame.insert(contentsOf: (0..<Int(rng.next() % 12)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
            }
            frame[0] = BinaryFrame.magic
            let before = engine.model
            let appliedBefore = engine.counters.applied
            let rejection = frame.withUnsafeBytes { engine.ingest($0) }
            if rejection != nil {
                XCTAssertEqual(engine.model, before, "a refused frame changed the model")
            } else {
                let count = Int(UInt32(littleEndian: frame.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 2, as: UInt32.self) }))
                XCTAssertEqual(engine.counters.applied - appliedBefore, UInt64(count))
            }
            XCTAssertEqual(engine.counters.received, engine.counters.applied + engine.counters.rejectedTotal)
        }
    }
}
