import Foundation
import XCTest
@testable import StreamRecCore

/// The snapshot file format: exact round trips and well-defined errors on damaged input.
final class SnapshotFormatTests: XCTestCase {
    /// A small model with number IDs, text IDs (including non-ASCII and number-like text) and re-ratings.
    static func sampleModel(factors: Int = 5) -> Model {
        var model = Model(settings: ModelSettings(factors: factors, learningRate: 0.02, regularization: 0.03, seed: 99, initScale: 0.2))
        let users: [ExternalID] = [.number(1), .number(UInt64.max), .text("alice"), .text("042"), .text("ünïcødé 🎉")]
        let items: [ExternalID] = [.number(0), .text("book:1"), .number(77), .text("-5"), .text("x")]
        var rng = SplitMix64(seed: 4)
        for round in 0..<3 {
            for (u, user) in users.enumerated() {
                for (i, item) in items.enumerated() where (u + i + round) % 2 == 0 {
                    model.observe(user: user, item: item, rating: 1 + Float(rng.next() % 40) / 10)
                }
            }
        }
        return model
    }

    private func decode(_ bytes: [UInt8]) throws -> (model: Model, createdAtMillis: UInt64, logPosition: UInt64) {
        try bytes.withUnsafeBytes { try SnapshotFormat.decode($0) }
    }

    /// Replaces the trailing CRC so a deliberately edited payload gets past the checksum.
    private func refreshChecksum(_ bytes: inout [UInt8]) {
        let end = bytes.count - 4
        let crc = bytes.withUnsafeBytes { crc32(UnsafeRawBufferPointer(rebasing: $0[0..<end])) }
        withUnsafeBytes(of: crc.littleEndian) { for k in 0..<4 { bytes[end + k] = $0[k] } }
    }

    private func assertFormatError(_ bytes: [UInt8], _ expected: (FormatError) -> Bool, _ message: String,
                                   file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try decode(bytes), message, file: file, line: line) { error in
            guard let formatError = error as? FormatError else {
                return XCTFail("\(message): not a FormatError: \(error)", file: file, line: line)
            }
            XCTAssertTrue(expected(formatError), "\(message): got \(formatError)", file: file, line: line)
        }
    }

    /// encode → decode gives back an equal model (IDs, factors, biases, RNG, ranges, rated lists) and the creation time.
    func testRoundTripIsExact() throws {
        let model = Self.sampleModel()
        let bytes = SnapshotFormat.encode(model, createdAtMillis: 1_700_000_000_123)
        let (decoded, created, _) = try decode(bytes)
        XCTAssertEqual(created, 1_700_000_000_123)
        XCTAssertEqual(decoded, model)
        XCTAssertEqual(decoded.users.externals, model.users.externals)
        XCTAssertEqual(decoded.items.index(of: .text("ünïcødé 🎉")), model.items.index(of: .text("ünïcødé 🎉")))
        XCTAssertEqual(decoded.userFactors.values.map(\.bitPattern), model.userFactors.values.map(\.bitPattern))
        XCTAssertEqual(decoded.itemFactors.values.map(\.bitPattern), model.itemFactors.values.map(\.bitPattern))
        XCTAssertEqual(decoded.popularity, model.popularity)
        XCTAssertEqual(decoded.ratedPairs, model.ratedPairs)
        XCTAssertEqual(decoded.rng, model.rng)
        XCTAssertEqual(SnapshotFormat.encode(decoded, createdAtMillis: 1_700_000_000_123), bytes, "re-encoding is byte-identical")
    }

    /// A restored model keeps learning exactly as the original would: same next rows, same updates.
    func testRestoredModelContinuesIdentically() throws {
        var original = Self.sampleModel()
        var restored = try decode(SnapshotFormat.encode(original, createdAtMillis: 0)).model
        for k in 0..<5 {
            original.observe(user: .text("new\(k)"), item: .number(UInt64(k)), rating: 3)
            restored.observe(user: .text("new\(k)"), item: .number(UInt64(k)), rating: 3)
        }
        XCTAssertEqual(restored, original)
    }

    /// Every setting survives a round trip, so a restored model "keeps learning the way it was learning" (ModelSettings' contract).
    func testNonDefaultSettingsRoundTrip() throws {
        var settings = ModelSettings(factors: 6, learningRate: 0.03, regularization: 0.04, seed: 5, initScale: 0.3)
        settings.biasLearningRate = 0.07
        settings.optimizer = .adaptive
        settings.negatives = 2
        settings.pairwiseLearningRate = 0.02
        settings.positiveThreshold = 4
        settings.reservoirSize = 16
        settings.sampler = .popular
        settings.neighbourSlots = 3
        settings.neighbourHistory = 2
        settings.neighbourExponent = 0.25
        settings.neighbourWeight = 7
        XCTAssertNoThrow(try settings.validate())
        var model = Model(settings: settings)
        for k in 0..<40 { model.observe(user: .number(UInt64(k % 5)), item: .number(UInt64(k % 7)), rating: Float(k % 6)) }
        let restored = try decode(SnapshotFormat.encode(model, createdAtMillis: 0)).model
        XCTAssertEqual(restored.settings, settings)
        XCTAssertEqual(restored, model)
    }

    /// A restored AdaGrad model has one accumulator per row, so it can keep learning on existing rows.
    func testRestoredAdaptiveModelHasAccumulators() throws {
        var settings = ModelSettings(factors: 4, learningRate: 0.05, regularization: 0.01, seed: 5)
        settings.optimizer = .adaptive
        var model = Model(settings: settings)
        for k in 0..<20 { model.observe(user: .number(UInt64(k % 3)), item: .number(UInt64(k % 4)), rating: Float(k % 5)) }
        var restored = try decode(SnapshotFormat.encode(model, createdAtMillis: 0)).model
        XCTAssertEqual(restored.userRowPower, model.userRowPower)
        XCTAssertEqual(restored.itemRowPower, model.itemRowPower)
        XCTAssertEqual(restored.userBiasSteps, model.userBiasSteps)
        XCTAssertEqual(restored.itemBiasSteps, model.itemBiasSteps)
        // Observing on an existing row indexes the accumulators; only do it when they are there, or the test process would trap.
        guard restored.settings.optimizer == .adaptive,
              restored.userRowPower.count == restored.users.count, restored.itemRowPower.count == restored.items.count,
              restored.userBiasSteps.count == restored.users.count, restored.itemBiasSteps.count == restored.items.count
        else { return XCTFail("restored model lost its AdaGrad state; observing an existing user would crash") }
        model.observe(user: .number(1), item: .number(2), rating: 3)
        restored.observe(user: .number(1), item: .number(2), rating: 3)
        XCTAssertEqual(restored, model)
    }

    /// An empty model (infinite rating range, no rows) round-trips too.
    func testEmptyModelRoundTrip() throws {
        let model = Model(settings: ModelSettings(factors: 1, learningRate: 0.5, regularization: 0, seed: 0))
        let decoded = try decode(SnapshotFormat.encode(model, createdAtMillis: 0)).model
        XCTAssertEqual(decoded, model)
        XCTAssertEqual(decoded.minRating, .infinity)
        XCTAssertEqual(decoded.maxRating, -.infinity)
    }

    /// A single flipped bit in the log position or anywhere after the header's length field is caught as a checksum mismatch.
    func testBitFlipIsChecksumMismatch() {
        let bytes = SnapshotFormat.encode(Self.sampleModel(), createdAtMillis: 5)
        var rng = SplitMix64(seed: 8)
        for position in [16, 23, 32, 40, bytes.count / 2, bytes.count - 5, bytes.count - 1] + (0..<40).map({ _ in 32 + Int(rng.next() % UInt64(bytes.count - 32)) }) {
            var damaged = bytes
            damaged[position] ^= UInt8(1) << UInt8(rng.next() % 8)
            assertFormatError(damaged, { if case .checksumMismatch = $0 { return true } else { return false } },
                              "bit flip at byte \(position)")
        }
    }

    /// Every truncation of a snapshot throws: bad magic under 8 bytes, `.truncated` from there on; none crash.
    func testTruncationAtEveryLength() {
        let bytes = SnapshotFormat.encode(Self.sampleModel(factors: 3), createdAtMillis: 5)
        for length in 0..<bytes.count {
            let prefix = Array(bytes[0..<length])
            if length < 8 {
                assertFormatError(prefix, { $0 == .badMagic }, "truncated to \(length)")
            } else {
                assertFormatError(prefix, { if case .truncated = $0 { return true } else { return false } },
                                  "truncated to \(length)")
            }
        }
    }

    /// Bytes after the checksum are rejected as invalid rather than ignored.
    func testTrailingBytesAreInvalid() {
        let bytes = SnapshotFormat.encode(Self.sampleModel(), createdAtMillis: 5) + [0]
        assertFormatError(bytes, { if case .invalid = $0 { return true } else { return false } }, "one trailing byte")
    }

    /// A file that does not start with the magic is `.badMagic`, whatever follows.
    func testWrongMagic() {
        var bytes = SnapshotFormat.encode(Self.sampleModel(), createdAtMillis: 5)
        bytes[0] = UInt8(ascii: "X")
        assertFormatError(bytes, { $0 == .badMagic }, "first byte changed")
        var textMode = SnapshotFormat.encode(Self.sampleModel(), createdAtMillis: 5)
        textMode.remove(at: 6)  // a CR LF → LF conversion
        assertFormatError(textMode, { $0 == .badMagic }, "CR removed")
        assertFormatError(Array("hello, world, not a snapshot".utf8), { $0 == .badMagic }, "text file")
    }

    /// A different version number (bytes 8..<12, nothing else changed) is `.unsupportedVersion`, checked before the checksum.
    func testWrongVersion() {
        for version: UInt32 in [0, 4, 0xFFFF_FFFF] {
            var bytes = SnapshotFormat.encode(Self.sampleModel(), createdAtMillis: 5)
            withUnsafeBytes(of: version.littleEndian) { for k in 0..<4 { bytes[8 + k] = $0[k] } }
            assertFormatError(bytes, { $0 == .unsupportedVersion(version) }, "version \(version)")
        }
    }

    /// A payload with a correct checksum but impossible contents (bad settings, duplicate IDs) is `.invalid`.
    func testValidChecksumInvalidContents() {
        let model = Self.sampleModel()
        var zeroFactors = SnapshotFormat.encode(model, createdAtMillis: 5)
        for k in 32..<36 { zeroFactors[k] = 0 }
        refreshChecksum(&zeroFactors)
        assertFormatError(zeroFactors, { if case .invalid = $0 { return true } else { return false } }, "factors = 0")

        var duplicated = Model(settings: model.settings)
        duplicated.observe(user: .number(1), item: .number(2), rating: 3)
        duplicated.observe(user: .number(5), item: .number(2), rating: 3)
        var bytes = SnapshotFormat.encode(duplicated, createdAtMillis: 0)
        // The header takes 32 bytes and the payload's fixed fields 110, so the user count is at 142
        // and the IDs, [tag 0][u64] each, start at 146: the second user's value is at 156.
        XCTAssertEqual(Array(bytes[142..<157]), [2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 5], "layout as documented")
        bytes[156] = 1
        refreshChecksum(&bytes)
        assertFormatError(bytes, { if case .invalid(let why) = $0 { return why.contains("twice") } else { return false } }, "duplicate user")
    }

    /// A neighbour count no sequence of likes could produce is refused on load, not trapped on later.
    func testImpossibleNeighbourCountIsInvalid() throws {
        var model = Self.sampleModel()
        XCTAssertTrue(model.hasNeighbourHead)
        var row = model.neighbourHead.neighbours.rows[0]
        let absent = try XCTUnwrap((0..<Int32(model.items.count)).first { row.count(of: $0) == 0 })
        row.place(absent, .max)
        model.neighbourHead.neighbours.rows[0] = row
        assertFormatError(SnapshotFormat.encode(model, createdAtMillis: 0),
                          { if case .invalid(let why) = $0 { return why.contains("neighbour row") } else { return false } },
                          "count 2^32 - 1 with a handful of likes")
    }

    /// Seeded random mutations of a real snapshot (with and without a recomputed checksum) never crash the decoder.
    func testRandomMutationsNeverCrash() {
        let bytes = SnapshotFormat.encode(Self.sampleModel(factors: 3), createdAtMillis: 5)
        var rng = SplitMix64(seed: 0xF022)
        var outcomes = [String: Int]()
        for iteration in 0..<400 {
            var mutated = bytes
            let edits = 1 + Int(rng.next() % 4)
            for _ in 0..<edits {
                let position = Int(rng.next() % UInt64(mutated.count))
                switch rng.next() % 3 {
                case 0: mutated[position] ^= UInt8(1) << UInt8(rng.next() % 8)
                case 1: mutated[position] = UInt8(truncatingIfNeeded: rng.next())
                default: mutated[position] = [0x00, 0xFF, 0x7F, 0x80][Int(rng.next() % 4)]
                }
            }
            if rng.next() % 8 == 0 { mutated.removeLast(Int(rng.next() % 16) + 1) }
            if iteration % 2 == 0, mutated.count >= 28 { refreshChecksum(&mutated) }
            do {
                let model = try decode(mutated).model
                // Whatever decodes must be a usable model.
                if let user = model.users.externals.first, let item = model.items.externals.first {
                    _ = model.predict(user: user, item: item)
                    _ = model.top(user: user, n: 3)
                }
                _ = model.popular(n: 3)
                outcomes["decoded", default: 0] += 1
            } catch let error as FormatError {
                outcomes[String("\(error)".prefix(12)), default: 0] += 1
            } catch {
                XCTFail("iteration \(iteration): unexpected error type \(error)")
            }
        }
        XCTAssertGreaterThan(outcomes.count, 2, "the mutations reached several decoder paths: \(outcomes)")
    }

    /// save(to:) and load(from:) go through real files and give back the same model.
    func testSaveAndLoadFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("srcore-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let model = Self.sampleModel()
        let path = directory + "/model.srs"
        let size = try model.save(to: path, createdAtMillis: 9)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int, size)
        XCTAssertEqual(try Model.load(from: path), model)
    }

    /// header(of:) reports a damaged checksum instead of throwing, so `inspect` can show both values.
    func testHeaderReportsChecksums() throws {
        var bytes = SnapshotFormat.encode(Self.sampleModel(), createdAtMillis: 5)
        let intact = try bytes.withUnsafeBytes { try SnapshotFormat.header(of: $0) }
        XCTAssertEqual(intact.version, 3)
        XCTAssertEqual(intact.payloadLength, UInt64(bytes.count - 36))
        XCTAssertEqual(intact.storedChecksum, intact.computedChecksum)
        bytes[40] ^= 1
        let damaged = try bytes.withUnsafeBytes { try SnapshotFormat.header(of: $0) }
        XCTAssertNotEqual(damaged.storedChecksum, damaged.computedChecksum)
        XCTAssertEqual(damaged.storedChecksum, intact.storedChecksum)
    }

    /// The log position round-trips through the header (bytes 16..<24), and logPosition(ofPrefix:) reads it from 32 bytes alone.
    func testLogPositionInHeader() throws {
        let bytes = SnapshotFormat.encode(Self.sampleModel(), createdAtMillis: 5, logPosition: 0x0102_0304_0506_0708)
        XCTAssertEqual(Array(bytes[16..<24]), [8, 7, 6, 5, 4, 3, 2, 1], "little-endian at offset 16")
        XCTAssertEqual(try decode(bytes).logPosition, 0x0102_0304_0506_0708)
        XCTAssertEqual(Array(bytes[0..<32]).withUnsafeBytes { SnapshotFormat.logPosition(ofPrefix: $0) }, 0x0102_0304_0506_0708)
        XCTAssertNil(Array(bytes[0..<20]).withUnsafeBytes { SnapshotFormat.logPosition(ofPrefix: $0) }, "too short")
        XCTAssertNil(Array("not a snapshot at all, no no no".utf8).withUnsafeBytes { SnapshotFormat.logPosition(ofPrefix: $0) })
    }

    /// `model` (without the neighbour head) in the v2 layout, or v1's when `version` is 1: no neighbour
    /// settings, rated items as per-user lists, and for v1 no log position.
    private func legacyBytes(_ model: Model, version: UInt32) -> [UInt8] {
        precondition(!model.hasNeighbourHead)
        var bytes = SnapshotFormat.encode(model, createdAtMillis: 77, logPosition: 0)
        let pairsEnd = bytes.count - 4 - (8 + 12 * model.reservoir.events.count)
        let pairsStart = pairsEnd - 8 - 8 * model.ratedPairs.count
        var lists: [UInt8] = []
        for u in 0..<model.users.count {
            let rated = model.ratedPairs.elements.filter { $0 >> 32 == UInt64(u) }.map { UInt32($0 & 0xFFFF_FFFF) }
            for value in [UInt32(rated.count)] + rated { withUnsafeBytes(of: value.littleEndian) { lists += $0 } }
        }
        bytes.replaceSubrange(pairsStart..<pairsEnd, with: lists)
        bytes.removeSubrange(78..<94)  // neighbour slots, history, exponent, weight
        withUnsafeBytes(of: UInt64(bytes.count - 36).littleEndian) { for k in 0..<8 { bytes[24 + k] = $0[k] } }
        bytes[8] = UInt8(version)
        if version == 1 { bytes.removeSubrange(16..<24) }
        refreshChecksum(&bytes)
        return bytes
    }

    /// v1 and v2 files still load: same model, and an empty neighbour head with the caller's settings (default or off) that learns from then on.
    func testOlderVersionsStillLoad() throws {
        var settings = Self.sampleModel().settings
        settings.neighbourSlots = 0
        var model = Model(settings: settings)
        for k in 0..<60 { model.observe(user: .number(UInt64(k % 7)), item: .number(UInt64(k % 11)), rating: Float(1 + k % 10)) }
        for version: UInt32 in [1, 2] {
            let bytes = legacyBytes(model, version: version)
            var (decoded, created, position) = try decode(bytes)
            XCTAssertEqual(try bytes.withUnsafeBytes { try SnapshotFormat.header(of: $0) }.version, version)
            XCTAssertEqual(created, 77)
            XCTAssertEqual(position, 0)
            XCTAssertEqual(decoded.settings.neighbourSlots, ModelSettings().neighbourSlots)
            XCTAssertEqual(decoded.ratedPairs, model.ratedPairs)
            XCTAssertEqual(decoded.popularity, model.popularity)
            XCTAssertEqual(decoded.userFactors, model.userFactors)
            XCTAssertEqual(decoded.reservoir, model.reservoir)
            XCTAssertEqual(decoded.neighbourHead.neighbours.rows.count, model.items.count)
            var off = ModelSettings()
            off.neighbourSlots = 0
            let withoutHead = try bytes.withUnsafeBytes { try SnapshotFormat.decode($0, upgrade: off) }.model
            XCTAssertFalse(withoutHead.hasNeighbourHead, "an upgrade can keep the head off")
            XCTAssertEqual(withoutHead.ratedPairs, model.ratedPairs)
            for user in ["new", "newer"] {
                decoded.observe(user: .text(user), item: .number(1), rating: 10)
                decoded.observe(user: .text(user), item: .number(2), rating: 10)
            }
            let (one, two) = (decoded.items.index(of: .number(1))!, decoded.items.index(of: .number(2))!)
            XCTAssertEqual(decoded.neighbourHead.neighbours.rows[Int(one)].count(of: two), 2, "the head learns after an upgrade")
        }
    }
}
