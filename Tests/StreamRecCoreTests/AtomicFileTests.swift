import Foundation
import XCTest
@testable import StreamRecCore

/// Crash-safe whole-file writes and whole-file reads, on a real temp directory.
final class AtomicFileTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("srcore-atomic-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func listing() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    /// write then read gives back the bytes, and only the target file is left in the directory.
    func testWriteReadLeavesNoTempFile() throws {
        let path = directory + "/data.bin"
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try bytes.withUnsafeBytes { try AtomicFile.write($0, to: path) }
        XCTAssertEqual(try AtomicFile.read(path), bytes)
        XCTAssertEqual(try listing(), ["data.bin"])
    }

    /// Writing over an existing file replaces it whole (a shorter file leaves no tail) and still leaves no temp file.
    func testOverwriteReplacesWholeFile() throws {
        let path = directory + "/data.bin"
        try [UInt8](repeating: 7, count: 1000).withUnsafeBytes { try AtomicFile.write($0, to: path) }
        try [UInt8]([1, 2, 3]).withUnsafeBytes { try AtomicFile.write($0, to: path) }
        XCTAssertEqual(try AtomicFile.read(path), [1, 2, 3])
        try [UInt8]().withUnsafeBytes { try AtomicFile.write($0, to: path) }
        XCTAssertEqual(try AtomicFile.read(path), [])
        XCTAssertEqual(try listing(), ["data.bin"])
    }

    /// A write into a missing directory throws a FileError naming the path, and creates nothing.
    func testWriteIntoMissingDirectoryThrows() throws {
        let path = directory + "/missing/data.bin"
        XCTAssertThrowsError(try [UInt8]([1]).withUnsafeBytes { try AtomicFile.write($0, to: path) }) { error in
            let fileError = error as? FileError
            XCTAssertNotNil(fileError)
            XCTAssertEqual(fileError?.code, ENOENT)
            XCTAssertTrue(fileError?.description.contains(path) ?? false, "\(error)")
        }
        XCTAssertEqual(try listing(), [])
    }

    /// When the rename fails (the target is a non-empty directory) the temp file is removed.
    func testFailedRenameRemovesTempFile() throws {
        let path = directory + "/occupied"
        try FileManager.default.createDirectory(atPath: path + "/inside", withIntermediateDirectories: true)
        XCTAssertThrowsError(try [UInt8]([1, 2]).withUnsafeBytes { try AtomicFile.write($0, to: path) }) { error in
            XCTAssertTrue(error is FileError, "\(error)")
        }
        XCTAssertEqual(try listing(), ["occupied"])
    }

    /// Reading a missing file throws a FileError with ENOENT and the path in its description.
    func testReadMissingFileThrows() {
        let path = directory + "/nope"
        XCTAssertThrowsError(try AtomicFile.read(path)) { error in
            XCTAssertEqual((error as? FileError)?.code, ENOENT)
            XCTAssertTrue("\(error)".contains(path))
            XCTAssertTrue("\(error)".contains("No such file"), "\(error)")
        }
    }

    /// parentDirectory(of:) gives "." for a bare name, "/" for an entry of the root, and the prefix otherwise.
    func testParentDirectory() {
        XCTAssertEqual(AtomicFile.parentDirectory(of: "file"), ".")
        XCTAssertEqual(AtomicFile.parentDirectory(of: "/file"), "/")
        XCTAssertEqual(AtomicFile.parentDirectory(of: "/a/b/file"), "/a/b")
    }
}
