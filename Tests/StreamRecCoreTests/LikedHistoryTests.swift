import XCTest
@testable import StreamRecCore

/// Users' likes: kept in blocks, walked newest first, and stored in snapshots as per-user linked lists.
final class LikedHistoryTests: XCTestCase {
    /// Likes of users interleaved over several blocks each walk back newest first, stop at the limit, and never mix.
    func testWalksNewestFirstAcrossBlocks() {
        var history = LikedHistory()
        for _ in 0..<3 { history.appendUser() }
        for n: Int32 in 0..<20 {
            history.append(user: 0, item: n)
            if n % 3 == 0 { history.append(user: 1, item: 100 + n) }
        }
        XCTAssertEqual(Array(history.recent(0)), Array((0..<20).reversed()))
        XCTAssertEqual(Array(history.recent(0, limit: 10)), Array((10..<20).reversed()), "ten latest, across a block boundary")
        XCTAssertEqual(Array(history.recent(1)), [118, 115, 112, 109, 106, 103, 100])
        XCTAssertEqual(Array(history.recent(2)), [])
        XCTAssertEqual(history.count, 27)
    }

    /// Two histories with the same likes per user are equal however the likes arrived.
    func testEqualityIgnoresLayout() {
        var interleaved = LikedHistory(), grouped = LikedHistory()
        for _ in 0..<2 { interleaved.appendUser(); grouped.appendUser() }
        for n: Int32 in 0..<10 { interleaved.append(user: 0, item: n); interleaved.append(user: 1, item: 50 + n) }
        for n: Int32 in 0..<10 { grouped.append(user: 0, item: n) }
        for n: Int32 in 0..<10 { grouped.append(user: 1, item: 50 + n) }
        XCTAssertEqual(interleaved, grouped)
        grouped.append(user: 1, item: 7)
        XCTAssertNotEqual(interleaved, grouped)
    }

    /// The snapshot section round-trips, is canonical (user by user), and a section in arrival order (as first written) reads the same.
    func testSnapshotSectionRoundTripsAndReadsArrivalOrder() throws {
        var history = LikedHistory()
        for _ in 0..<3 { history.appendUser() }
        for n: Int32 in 0..<12 { history.append(user: n % 2 == 0 ? 0 : 2, item: n) }
        var w = ByteWriter()
        SnapshotFormat.appendLikes(history, to: &w)
        let read = try Self.read(w.bytes, users: 3)
        XCTAssertEqual(read, history)
        var again = ByteWriter()
        SnapshotFormat.appendLikes(read, to: &again)
        XCTAssertEqual(again.bytes, w.bytes, "re-encoding is byte-identical")

        // Arrival order: like n links to like n - 2 of the same user.
        var arrival = ByteWriter()
        arrival.append(UInt32(12))
        for n: Int32 in 0..<12 { arrival.append(n); arrival.append(n < 2 ? -1 : n - 2) }
        for newest: Int32 in [10, -1, 11] { arrival.append(newest) }
        XCTAssertEqual(try Self.read(arrival.bytes, users: 3), history)
    }

    /// A like claimed by two users, or linking forwards, is refused with a message naming it.
    func testDamagedSectionsAreRefused() {
        var shared = ByteWriter()
        shared.append(UInt32(2))
        for (item, previous): (Int32, Int32) in [(1, -1), (2, 0)] { shared.append(item); shared.append(previous) }
        for newest: Int32 in [1, 0] { shared.append(newest) }
        XCTAssertThrowsError(try Self.read(shared.bytes, users: 2)) { error in
            XCTAssertTrue("\(error)".contains("in two users' lists"), "\(error)")
        }
        var forwards = ByteWriter()
        forwards.append(UInt32(2))
        for (item, previous): (Int32, Int32) in [(1, 1), (2, 0)] { forwards.append(item); forwards.append(previous) }
        for newest: Int32 in [1, -1] { forwards.append(newest) }
        XCTAssertThrowsError(try Self.read(forwards.bytes, users: 2)) { error in
            XCTAssertTrue("\(error)".contains("like #0"), "\(error)")
        }
    }

    private static func read(_ bytes: [UInt8], users: Int) throws -> LikedHistory {
        try bytes.withUnsafeBytes { raw in
            var r = ByteReader(raw)
            return try SnapshotFormat.readLikes(&r, users: users, items: 100)
        }
    }
}
