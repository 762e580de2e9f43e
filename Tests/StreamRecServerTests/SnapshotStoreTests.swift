import Foundation
import XCTest
import StreamRecCore
@testable import StreamRecServer

/// Snapshot files in a real temp data directory: naming, pruning, and restoring past damage.
final class SnapshotStoreTests: XCTestCase {
    private var directory = ""

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("srserver-store-\(UUID().uuidString)").path
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func model(events: Int) -> Model {
        var model = Model(settings: ModelSettings(factors: 3, learningRate: 0.05, regularization: 0.01, seed: 2))
        for k in 0..<events { model.observe(user: .number(UInt64(k % 3)), item: .text("i\(k)"), rating: Float(k % 5)) }
        return model
    }

    /// A model's snapshot encoding, to compare models by what a snapshot holds.
    private func encoded(_ model: Model) -> [UInt8] { SnapshotFormat.encode(model, createdAtMillis: 0) }

    private func listing() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    /// Writing more snapshots than `kept` leaves only the newest `kept`, with strictly increasing names even within one millisecond.
    func testKeepsOnlyNewest() throws {
        let store = try SnapshotStore(directory: directory, kept: 2)
        var infos: [SnapshotInfo] = []
        for k in 1...5 { infos.append(try store.write(model(events: k))) }
        XCTAssertEqual(Set(infos.map(\.path)).count, 5, "five distinct names")
        XCTAssertEqual(infos.map(\.createdAtMillis), infos.map(\.createdAtMillis).sorted())
        XCTAssertEqual(try store.snapshots(), infos.suffix(2).map(\.path))
        let names = try listing()
        XCTAssertEqual(names.count, 2, "no temp files or older snapshots left: \(names)")
        XCTAssertEqual(encoded(try Model.load(from: infos[4].path)), encoded(model(events: 5)), "the newest file holds the last model")
        let name = (infos[4].path as NSString).lastPathComponent
        XCTAssertTrue(name.hasPrefix("snapshot-") && name.hasSuffix(".srs") && name.count == "snapshot-".count + 16 + 4, name)
        XCTAssertEqual(infos[4].bytes, try AtomicFile.read(infos[4].path).count)
    }

    /// kept below 1 is treated as 1, so the newest snapshot is never deleted.
    func testKeptIsAtLeastOne() throws {
        let store = try SnapshotStore(directory: directory, kept: 0)
        _ = try store.write(model(events: 1))
        let last = try store.write(model(events: 2))
        XCTAssertEqual(try store.snapshots(), [last.path])
    }

    /// restoreNewest skips a damaged newest file, renames it *.damaged, warns once, and returns the previous snapshot.
    func testRestoreSkipsDamagedNewest() throws {
        let store = try SnapshotStore(directory: directory, kept: 3)
        let older = try store.write(model(events: 4))
        let newer = try store.write(model(events: 7))
        var bytes = try AtomicFile.read(newer.path)
        bytes[bytes.count / 2] ^= 0x10
        try bytes.withUnsafeBytes { try AtomicFile.write($0, to: newer.path) }

        var warnings: [String] = []
        let restored = try XCTUnwrap(try store.restoreNewest { warnings.append($0) })
        XCTAssertEqual(restored.model.eventsApplied, 4)
        XCTAssertEqual(encoded(restored.model), encoded(model(events: 4)), "the older snapshot's model")
        XCTAssertEqual(restored.info.path, older.path)
        XCTAssertEqual(restored.info.createdAtMillis, older.createdAtMillis)
        XCTAssertEqual(restored.info.bytes, older.bytes)
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings.first?.contains(newer.path) ?? false, warnings.first ?? "")
        XCTAssertTrue(warnings.first?.contains("checksum") ?? false, warnings.first ?? "")
        XCTAssertTrue(FileManager.default.fileExists(atPath: newer.path + ".damaged"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: newer.path))
        XCTAssertEqual(try store.snapshots(), [older.path], "the damaged file is no longer a snapshot")

        warnings = []
        XCTAssertEqual(try store.restoreNewest { warnings.append($0) }?.info.path, older.path)
        XCTAssertEqual(warnings, [], "a second restore does not see the damaged file again")
    }

    /// A damaged file is kept out of pruning: later writes never delete *.damaged files.
    func testDamagedFilesAreNotPruned() throws {
        let store = try SnapshotStore(directory: directory, kept: 1)
        let first = try store.write(model(events: 1))
        try [UInt8]([1, 2, 3]).withUnsafeBytes { try AtomicFile.write($0, to: first.path) }
        XCTAssertNil(try store.restoreNewest { _ in })
        for k in 2...3 { _ = try store.write(model(events: k)) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: first.path + ".damaged"))
        XCTAssertEqual(try store.snapshots().count, 1)
    }

    /// With no snapshots, or only damaged ones, restoreNewest returns nil and renames every damaged file.
    func testRestoreWithNothingUsable() throws {
        let store = try SnapshotStore(directory: directory, kept: 5)
        XCTAssertNil(try store.restoreNewest { XCTFail("unexpected warning \($0)") })
        let a = try store.write(model(events: 1)), b = try store.write(model(events: 2))
        for info in [a, b] { try Array("garbage".utf8).withUnsafeBytes { try AtomicFile.write($0, to: info.path) } }
        var warnings = 0
        XCTAssertNil(try store.restoreNewest { _ in warnings += 1 })
        XCTAssertEqual(warnings, 2)
        XCTAssertEqual(try listing(), [a.path, b.path].map { ($0 as NSString).lastPathComponent + ".damaged" }.sorted())
    }

    /// Opening a store creates the directory, removes temp files a crash left behind, and leaves other files alone.
    func testInitCleansTempFiles() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in ["snapshot-0000001700000000000.srs.tmp-1234", "notes.txt"] {
            try Array("x".utf8).withUnsafeBytes { try AtomicFile.write($0, to: directory + "/" + name) }
        }
        _ = try SnapshotStore(directory: directory)
        XCTAssertEqual(try listing(), ["notes.txt"])
        let nested = directory + "/a/b"
        _ = try SnapshotStore(directory: nested)
        var isDirectory: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: nested, isDirectory: &isDirectory) && isDirectory.boolValue)
    }
}
