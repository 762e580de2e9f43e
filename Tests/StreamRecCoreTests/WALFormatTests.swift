import Foundation
import XCTest
@testable import StreamRecCore

/// The write-ahead log format: exact round trips, torn tails, and recovery over real files.
final class WALFormatTests: XCTestCase {
    static let records: [LogRecord] = [
        .events([RatingEvent(user: .number(1), item: .number(2), rating: 3.5)]),
        .events([RatingEvent(user: .text("alice"), item: .text("ünï 🎉"), rating: -1),
                 RatingEvent(user: .number(UInt64.max), item: .text("042"), rating: 1e6)]),
        .replay(count: 256),
        .events([]),
        .events((0..<50).map { RatingEvent(user: .number(UInt64($0 % 7)), item: .number(UInt64($0 % 11)), rating: Float($0 % 5)) }),
    ]

    static func segment(first: UInt64, _ records: [LogRecord]) -> [UInt8] {
        var bytes = WALFormat.header(first: first)
        for record in records { WALFormat.appendFrame(record, to: &bytes) }
        return bytes
    }

    private func scan(_ bytes: [UInt8]) throws -> (LogSegmentScan, [(UInt64, LogRecord)]) {
        var seen: [(UInt64, LogRecord)] = []
        let result = try bytes.withUnsafeBytes { try LogSegmentReader.scan($0) { seen.append(($0, $1)) } }
        return (result, seen)
    }

    private func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("srlog-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    /// Every record kind comes back equal, numbered from the header's first sequence number.
    func testRoundTrip() throws {
        let (result, seen) = try scan(Self.segment(first: 40, Self.records))
        XCTAssertNil(result.damage)
        XCTAssertEqual(seen.map(\.1), Self.records)
        XCTAssertEqual(seen.map(\.0), Array(40..<45))
        XCTAssertEqual(result.end, 45)
        XCTAssertEqual(result.eventCount, 53)
        XCTAssertEqual(WALFormat.firstSequence(ofFileName: WALFormat.fileName(first: 40)), 40)
        XCTAssertEqual(WALFormat.fileName(first: 7), "log-00000000000000000007.srl")
        XCTAssertNil(WALFormat.firstSequence(ofFileName: "log-7.srl"))
    }

    /// From a later sequence number, earlier records are counted and checked (checksum, kind, count) but not visited.
    func testScanFromSkipsEarlierRecordsButStillChecksThem() throws {
        let bytes = Self.segment(first: 40, Self.records)
        var seen: [(UInt64, LogRecord)] = []
        let result = try bytes.withUnsafeBytes { try LogSegmentReader.scan($0, from: 43) { seen.append(($0, $1)) } }
        XCTAssertNil(result.damage)
        XCTAssertEqual(seen.map(\.0), [43, 44])
        XCTAssertEqual(seen.map(\.1), Array(Self.records[3...]))
        XCTAssertEqual(result.end, 45)
        XCTAssertEqual(result.validLength, bytes.count)
        XCTAssertEqual(result.eventCount, 50, "events of the decoded records only")

        // A flipped byte inside a skipped record's body is skipped with it: the body still decodes to its
        // length, and every frame after it checks out. (The low mantissa byte of its last rating.)
        var damaged = bytes
        damaged[WALFormat.headerSize + WALFormat.frame(Self.records[0]).count - 4] ^= 0x40
        seen = []
        let skipped = try damaged.withUnsafeBytes { try LogSegmentReader.scan($0, from: 43) { seen.append(($0, $1)) } }
        XCTAssertNil(skipped.damage)
        XCTAssertEqual(skipped.damagedSkipped.map(\.sequence), [40])
        XCTAssertEqual(seen.map(\.0), [43, 44], "the needed records after it, numbered as before")
        guard case .checksumMismatch? = skipped.damagedSkipped.first?.damage else { return XCTFail("\(skipped.damagedSkipped)") }

        // A damaged length breaks the framing after it: the scan ends there, and that is not a torn tail.
        var badLength = bytes
        badLength[WALFormat.headerSize] ^= 0x02
        let cut = try badLength.withUnsafeBytes { try LogSegmentReader.scan($0, from: 43) { _, _ in XCTFail("visited past damage") } }
        XCTAssertEqual(cut.recordCount, 0)
        XCTAssertEqual(cut.validLength, WALFormat.headerSize)
        XCTAssertTrue(cut.damagedSkipped.isEmpty)
        XCTAssertFalse(cut.tornTail, "intact bytes follow the damage")
        guard case .checksumMismatch = cut.damage else { return XCTFail("damage: \(String(describing: cut.damage))") }

        // A flipped count makes the body disagree with its length: not skipped, the scan ends there.
        var badCount = bytes
        badCount[WALFormat.headerSize + WALFormat.frameOverhead + 1] ^= 0x01
        let counted = try badCount.withUnsafeBytes { try LogSegmentReader.scan($0, from: 43) { _, _ in XCTFail("visited past damage") } }
        XCTAssertEqual(counted.recordCount, 0)
        XCTAssertTrue(counted.damagedSkipped.isEmpty)

        // A length grown to swallow the next frame whole lands on a real boundary, but its body's counts do not account
        // for the bytes swallowed: not skipped, so the numbering cannot shift.
        var grown = bytes
        let frame0 = WALFormat.frame(Self.records[0]).count, frame1 = WALFormat.frame(Self.records[1]).count
        let grownLength = UInt32(frame0 - WALFormat.frameOverhead + frame1)
        withUnsafeBytes(of: grownLength.littleEndian) { for k in 0..<4 { grown[WALFormat.headerSize + k] = $0[k] } }
        let swallowed = try grown.withUnsafeBytes { try LogSegmentReader.scan($0, from: 43) { _, _ in XCTFail("visited with a shifted numbering") } }
        XCTAssertTrue(swallowed.damagedSkipped.isEmpty)
        XCTAssertEqual(swallowed.recordCount, 0)

        // A skipped damaged record may be followed by a torn tail: the records between are still read.
        seen = []
        let thenTorn = try (damaged + [7, 0, 0]).withUnsafeBytes { try LogSegmentReader.scan($0, from: 43) { seen.append(($0, $1)) } }
        XCTAssertEqual(thenTorn.damagedSkipped.map(\.sequence), [40])
        XCTAssertEqual(seen.map(\.0), [43, 44])
        XCTAssertTrue(thenTorn.tornTail)

        // A needed record that is damaged ends the scan even when the framing holds.
        let needed = try damaged.withUnsafeBytes { try LogSegmentReader.scan($0, from: 40) { _, _ in XCTFail("visited past damage") } }
        XCTAssertEqual(needed.recordCount, 0)
        XCTAssertFalse(needed.tornTail)

        // A skipped record whose checksum is right but whose kind is unknown is skipped the same way.
        let body: [UInt8] = [9, 0, 0, 0, 0], length: [UInt8] = [5, 0, 0, 0]
        let crc = body.withUnsafeBytes { b in length.withUnsafeBytes { l in crc32(b, continuing: crc32(l)) } }
        var hostile = WALFormat.header(first: 40) + length + withUnsafeBytes(of: crc.littleEndian, Array.init) + body
        for record in Self.records { WALFormat.appendFrame(record, to: &hostile) }
        seen = []
        let passed = try hostile.withUnsafeBytes { try LogSegmentReader.scan($0, from: 43) { seen.append(($0, $1)) } }
        XCTAssertEqual(seen.map(\.0), [43, 44, 45])
        guard case .invalid(let why)? = passed.damagedSkipped.first?.damage, why.contains("unknown record kind 9") else {
            return XCTFail("skipped: \(passed.damagedSkipped)")
        }
        // Zeros after the last intact record are a torn tail (pages the OS had not written back).
        let zeroed = try (bytes + [UInt8](repeating: 0, count: 300)).withUnsafeBytes { try LogSegmentReader.scan($0) }
        XCTAssertTrue(zeroed.tornTail)
        XCTAssertEqual(zeroed.validLength, bytes.count)
    }

    /// A numeric event costs 8 frame bytes + 5 + 22, as the format comment says.
    func testFrameLayout() {
        let frame = WALFormat.frame(.events([RatingEvent(user: .number(1), item: .number(2), rating: 3)]))
        XCTAssertEqual(frame.count, 8 + 1 + 4 + 9 + 9 + 4)
        XCTAssertEqual(Array(frame[0..<4]), [27, 0, 0, 0], "body length")
        XCTAssertEqual(frame[8], 1, "kind events")
    }

    /// Cut at every length, a segment yields exactly its complete records and reports the torn rest; never throws past the header.
    func testTornTailAtEveryLength() throws {
        let bytes = Self.segment(first: 0, Self.records)
        var boundaries = [WALFormat.headerSize]
        for record in Self.records { boundaries.append(boundaries.last! + WALFormat.frame(record).count) }
        for length in 0...bytes.count {
            let prefix = Array(bytes[0..<length])
            if length < WALFormat.headerSize {
                XCTAssertThrowsError(try scan(prefix), "header cut at \(length)")
                continue
            }
            let (result, _) = try scan(prefix)
            let complete = boundaries.lastIndex { $0 <= length }!
            XCTAssertEqual(result.recordCount, complete, "cut at \(length)")
            XCTAssertEqual(result.validLength, boundaries[complete], "cut at \(length)")
            XCTAssertEqual(result.damage == nil, boundaries.contains(length), "cut at \(length)")
        }
    }

    /// A body with a correct CRC but hostile contents (huge counts, bad tags, NaN) is refused without a big allocation.
    func testValidChecksumHostileBodies() throws {
        func framed(_ body: [UInt8]) -> [UInt8] {
            var frame: [UInt8] = []
            withUnsafeBytes(of: UInt32(body.count).littleEndian) { frame.append(contentsOf: $0) }
            let crc = body.withUnsafeBytes { b in frame.withUnsafeBytes { crc32(b, continuing: crc32($0)) } }
            withUnsafeBytes(of: crc.littleEndian) { frame.append(contentsOf: $0) }
            return WALFormat.header(first: 0) + frame + body
        }
        let hostile: [[UInt8]] = [
            [1, 0xFF, 0xFF, 0xFF, 0xFF],                      // 4 billion events in 5 bytes
            [2, 0xFF, 0xFF, 0xFF, 0xFF],                      // 4 billion replay steps
            [9, 0, 0, 0, 0],                                  // unknown kind
            [1, 1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0],    // unknown ID tag
            [1, 1, 0, 0, 0, 1, 0xFF, 0xFF, 0x41],             // text ID claiming 65535 bytes
            [1, 1, 0, 0, 0, 1, 2, 0, 0x34, 0x32, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xC0, 0x7F],  // "42" as text, not canonical
            [1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xC0, 0x7F],  // NaN rating
            [1, 0, 0, 0, 0, 0],                               // a byte after the record
        ]
        for body in hostile {
            let (result, _) = try scan(framed(body))
            XCTAssertEqual(result.recordCount, 0, "body \(body)")
            guard case .invalid? = result.damage else { return XCTFail("body \(body): \(String(describing: result.damage))") }
        }
    }

    /// Seeded random mutations (bit flips, random bytes, truncation, huge lengths) of real segments and snapshots
    /// only ever produce FormatErrors or intact prefixes.
    func testRandomMutationsOfLogsAndSnapshots() throws {
        var rng = SplitMix64(seed: 0x5EED)
        let log = Self.segment(first: 3, Self.records)
        var model = Model(settings: ModelSettings(factors: 3, learningRate: 0.05, regularization: 0.01, seed: 2))
        for k in 0..<60 { model.observe(user: .number(UInt64(k % 9)), item: .text("i\(k % 13)"), rating: Float(k % 5)) }
        let snapshot = SnapshotFormat.encode(model, createdAtMillis: 1, logPosition: 9)
        var outcomes: [String: Int] = [:]
        for iteration in 0..<3000 {
            var bytes = iteration % 2 == 0 ? log : snapshot
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let position = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 5 {
                case 0: bytes[position] ^= UInt8(1) << UInt8(rng.next() % 8)
                case 1: bytes[position] = UInt8(truncatingIfNeeded: rng.next())
                case 2: bytes.removeLast(Int(rng.next() % UInt64(bytes.count / 2 + 1)))
                case 3:  // a huge length or count where a length might be
                    let at = min(position, bytes.count - 4)
                    if at >= 0 { for k in 0..<4 { bytes[at + k] = 0xFF } }
                default: bytes.append(contentsOf: (0..<Int(rng.next() % 16)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
                }
                if bytes.isEmpty { break }
            }
            if iteration % 2 == 0 {
                do {
                    let (result, seen) = try scan(bytes)
                    XCTAssertLessThanOrEqual(result.validLength, bytes.count)
                    XCTAssertEqual(seen.count, result.recordCount)
                    outcomes[result.damage == nil ? "log ok" : "log torn", default: 0] += 1
                } catch let error as FormatError {
                    outcomes["log header: " + String("\(error)".prefix(10)), default: 0] += 1
                }
            } else {
                do {
                    _ = try bytes.withUnsafeBytes { try SnapshotFormat.decode($0) }
                    outcomes["snapshot ok", default: 0] += 1
                } catch let error as FormatError {
                    outcomes["snapshot: " + String("\(error)".prefix(10)), default: 0] += 1
                }
            }
        }
        XCTAssertGreaterThan(outcomes.count, 4, "mutations reached several paths: \(outcomes)")
    }

    /// Snapshot state plus the log from its position equals the model that saw every event; a torn tail is cut off the file.
    func testRecoveryAppliesFromPositionAndTruncatesTornTail() throws {
        let dir = try temporaryDirectory()
        let settings = ModelSettings(factors: 4, learningRate: 0.05, regularization: 0.01, seed: 3)
        var live = Model(settings: settings)
        var log: [LogRecord] = []
        for k in 0..<40 {
            let record = LogRecord.events([RatingEvent(user: .number(UInt64(k % 6)), item: .number(UInt64(k % 5)), rating: Float(k % 4))])
            log.append(record)
            if k % 9 == 8 { log.append(.replay(count: 5)) }
        }
        var snapshotModel = Model(settings: settings)
        for record in log[..<20] { record.apply(to: &snapshotModel) }
        for record in log { record.apply(to: &live) }
        // Two segments, the first ending inside the snapshot's range; the second gets a torn tail.
        try Self.segment(first: 0, Array(log[..<12])).withUnsafeBytes { try AtomicFile.write($0, to: dir + "/" + WALFormat.fileName(first: 0)) }
        var second = Self.segment(first: 12, Array(log[12...]))
        second += Array(WALFormat.frame(.events([RatingEvent(user: .number(9), item: .number(9), rating: 1)])).prefix(10))
        let secondPath = dir + "/" + WALFormat.fileName(first: 12)
        try second.withUnsafeBytes { try AtomicFile.write($0, to: secondPath) }

        var recovered = snapshotModel
        let report = try LogRecovery.recover(model: &recovered, from: 20, directory: dir, repair: true)
        XCTAssertEqual(recovered, live)
        XCTAssertEqual(report.nextSequence, UInt64(log.count))
        XCTAssertEqual(report.recordsApplied, log.count - 20)
        XCTAssertEqual(report.bytesTruncated, 10)
        XCTAssertEqual(report.recordsSkipped, 8, "the second segment's records the snapshot has")
        XCTAssertNil(report.gapAt)
        XCTAssertEqual(try AtomicFile.read(secondPath).count, second.count - 10, "torn tail truncated on disk")
    }

    /// Recovery counts the neighbour head on a second thread, handing it over in batches, and still rebuilds exactly the model that saw every event.
    func testRecoveryOverManyBatchesRebuildsTheNeighbourHead() throws {
        let dir = try temporaryDirectory()
        var rng = SplitMix64(seed: 8)
        let records = (0..<5).map { _ in
            LogRecord.events((0..<4_000).map { _ in
                RatingEvent(user: .number(rng.next() % 2_000), item: .number(rng.next() % 200), rating: Float(rng.next() % 10 + 1))
            })
        }
        try Self.segment(first: 0, records).withUnsafeBytes { try AtomicFile.write($0, to: dir + "/" + WALFormat.fileName(first: 0)) }
        var live = Model()
        for record in records { record.apply(to: &live) }
        var recovered = Model()
        let report = try LogRecovery.recover(model: &recovered, from: 0, directory: dir, repair: false)
        XCTAssertEqual(report.eventsApplied, 20_000)
        XCTAssertGreaterThan(recovered.ratedPairs.count, 4 * NeighbourPipeline.batchSize, "several hand-offs")
        XCTAssertGreaterThan(recovered.neighbourHead.liked.count, 4_000)
        XCTAssertNil(recovered.detachedNeighbourRatings)
        XCTAssertEqual(recovered.neighbourHead, live.neighbourHead)
        XCTAssertEqual(recovered, live)
    }

    /// A missing stretch of the log stops replay at the gap, and the segments after it are renamed *.damaged.
    func testGapStopsReplay() throws {
        let dir = try temporaryDirectory()
        let events = (0..<10).map { LogRecord.events([RatingEvent(user: .number(UInt64($0)), item: .number(1), rating: 2)]) }
        try Self.segment(first: 0, Array(events[..<4])).withUnsafeBytes { try AtomicFile.write($0, to: dir + "/" + WALFormat.fileName(first: 0)) }
        try Self.segment(first: 6, Array(events[6...])).withUnsafeBytes { try AtomicFile.write($0, to: dir + "/" + WALFormat.fileName(first: 6)) }
        var model = Model(settings: ModelSettings(factors: 2, learningRate: 0.1, regularization: 0, seed: 1))
        let report = try LogRecovery.recover(model: &model, from: 0, directory: dir, repair: true)
        XCTAssertEqual(report.gapAt, 4)
        XCTAssertEqual(report.nextSequence, 4)
        XCTAssertEqual(model.eventsApplied, 4)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + WALFormat.fileName(first: 6) + ".damaged"))
    }

    /// A retry segment that starts inside an earlier one supersedes that one's tail: each sequence number is applied once, from the newer copy.
    func testOverlappingSegmentSupersedes() throws {
        let dir = try temporaryDirectory()
        let a = LogRecord.events([RatingEvent(user: .number(1), item: .number(1), rating: 1)])
        let stale = LogRecord.events([RatingEvent(user: .number(666), item: .number(1), rating: 5)])
        let b = LogRecord.events([RatingEvent(user: .number(2), item: .number(1), rating: 3)])
        try Self.segment(first: 0, [a, stale]).withUnsafeBytes { try AtomicFile.write($0, to: dir + "/" + WALFormat.fileName(first: 0)) }
        try Self.segment(first: 1, [b]).withUnsafeBytes { try AtomicFile.write($0, to: dir + "/" + WALFormat.fileName(first: 1)) }
        var model = Model(settings: ModelSettings(factors: 2, learningRate: 0.1, regularization: 0, seed: 1))
        let report = try LogRecovery.recover(model: &model, from: 0, directory: dir, repair: false)
        XCTAssertEqual(report.nextSequence, 2)
        XCTAssertNil(model.users.index(of: .number(666)), "the superseded record is not applied")
        XCTAssertNotNil(model.users.index(of: .number(2)))
    }
}
