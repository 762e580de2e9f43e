/// The write-ahead log's on-disk format: segment files of framed records.
/// All integers and floats are little-endian.
///
/// A segment is named `log-<first sequence number, 20 digits>.srl` (so name
/// order is log order) and starts with a 28-byte header:
///
///     offset  size  field
///     0       8     magic "SRWLOG\r\n"
///     8       4     format version (1)
///     12      4     flags, 0 (reserved)
///     16      8     sequence number of the segment's first record
///     24      4     CRC-32 of bytes 0 ..< 24
///
/// then records, back to back, each framed as
///
///     0       4     body length B (1 ... `maxBodyBytes`)
///     4       4     CRC-32 of the 4 length bytes followed by the body
///     8       B     body: u8 kind, then
///                   kind 1 (events): u32 count, then per event: user ID,
///                     item ID (u8 tag 0 + u64, or tag 1 + u16 length + UTF-8),
///                     f32 rating
///                   kind 2 (replay): u32 count
///
/// Records are numbered implicitly: the n-th record of a segment (from 0) has
/// sequence number first + n. A snapshot stores the number of the first
/// record it does not include; recovery replays from there.
///
/// Decisions, and what was rejected:
/// - The CRC covers the length too, so a flipped bit in a length field is a
///   checksum failure rather than a silent jump to a wrong frame boundary.
/// - Per-record CRCs (not one per segment): a segment is read while it is
///   still being written, and a torn tail must cost only the torn record.
/// - Sequence numbers are implicit rather than stored per record: 8 bytes a
///   record saved, and the segment header pins the numbering. Byte offsets as
///   log positions were rejected: they tie a snapshot to one segment layout.
/// - Timestamps are not logged: the model does not read them, and the log
///   exists to rebuild the model. Ratings are the Float the model applied,
///   not the JSON text, so replay cannot round differently.
/// - Binary, not JSON lines: 22 bytes for a numeric event instead of ~40, and
///   no parser in the recovery path.
/// - Segments, not one growing file: old segments are deleted whole once a
///   snapshot covers them, with no rewrite (Redis's AOF rewrite) needed.
public enum WALFormat {
    public static let magic: [UInt8] = Array("SRWLOG\r\n".utf8)
    public static let version: UInt32 = 1
    public static let headerSize = 28
    public static let frameOverhead = 8
    /// Longest record body accepted. Ingest messages are at most
    /// `--max-message-bytes` of JSON, and the binary form of an event is never
    /// longer than its JSON, so this only bounds what a damaged length field
    /// can make a reader believe.
    public static let maxBodyBytes = 1 << 30
    /// Most replay steps one record may ask for: the daemon logs one record
    /// per replay slice (hundreds); a larger number is damage, and would make
    /// recovery spin.
    public static let maxReplayCount = 1 << 24
    public static let filePrefix = "log-"
    public static let fileSuffix = ".srl"

    static let kindEvents: UInt8 = 1
    static let kindReplay: UInt8 = 2

    /// The file name of the segment whose first record is `first`.
    public static func fileName(first: UInt64) -> String {
        let digits = String(first)
        return filePrefix + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + fileSuffix
    }

    /// The first sequence number a segment file name carries, or nil when the
    /// name is not a segment's.
    public static func firstSequence(ofFileName name: String) -> UInt64? {
        guard name.hasPrefix(filePrefix), name.hasSuffix(fileSuffix),
              name.count == filePrefix.count + 20 + fileSuffix.count else { return nil }
        return UInt64(name.dropFirst(filePrefix.count).dropLast(fileSuffix.count))
    }

    /// A segment header for a segment starting at `first`.
    public static func header(first: UInt64) -> [UInt8] {
        var w = ByteWriter(capacity: headerSize)
        w.append(raw: magic.withUnsafeBytes { $0 })
        w.append(version)
        w.append(UInt32(0))
        w.append(first)
        let crc = w.bytes.withUnsafeBytes { crc32($0) }
        w.append(crc)
        return w.bytes
    }

    /// Appends `record`, framed, to `out`.
    public static func appendFrame(_ record: LogRecord, to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: [0, 0, 0, 0, 0, 0, 0, 0])  // length and CRC, patched below
        switch record {
        case .events(let events):
            out.append(kindEvents)
            appendLE(UInt32(events.count), to: &out)
            for event in events {
                appendID(event.user, to: &out)
                appendID(event.item, to: &out)
                appendLE(event.rating.bitPattern, to: &out)
            }
        case .replay(let count):
            out.append(kindReplay)
            appendLE(UInt32(count), to: &out)
        }
        let length = UInt32(out.count - start - frameOverhead)
        withUnsafeBytes(of: length.littleEndian) { for k in 0..<4 { out[start + k] = $0[k] } }
        let crc = out.withUnsafeBytes { raw in
            let lengthCRC = crc32(UnsafeRawBufferPointer(rebasing: raw[start..<start + 4]))
            return crc32(UnsafeRawBufferPointer(rebasing: raw[(start + frameOverhead)...]), continuing: lengthCRC)
        }
        withUnsafeBytes(of: crc.littleEndian) { for k in 0..<4 { out[start + 4 + k] = $0[k] } }
    }

    /// One record, framed: for tests and tools.
    public static func frame(_ record: LogRecord) -> [UInt8] {
        var out: [UInt8] = []
        appendFrame(record, to: &out)
        return out
    }

    private static func appendLE<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func appendID(_ id: ExternalID, to out: inout [UInt8]) {
        switch id {
        case .number(let value):
            out.append(0)
            appendLE(value, to: &out)
        case .text(let text):
            // IDs over 65535 bytes cannot be accepted (`--max-id-bytes` is capped
            // at `SnapshotFormat.maxTextIDBytes`), so the u16 never truncates.
            let utf8 = Array(text.utf8)
            out.append(1)
            appendLE(UInt16(utf8.count), to: &out)
            out.append(contentsOf: utf8)
        }
    }

    /// Decodes a record body (the bytes after the frame), validating every
    /// field: a body with a correct CRC can still be hostile.
    public static func decodeBody(_ body: UnsafeRawBufferPointer) throws -> LogRecord {
        var r = ByteReader(body)
        let (kind, count) = try readShape(&r)
        let record: LogRecord
        if kind == kindEvents {
            var events: [RatingEvent] = []
            events.reserveCapacity(count)
            for n in 0..<count {
                let user = try readID(&r, "user of event #\(n)")
                let item = try readID(&r, "item of event #\(n)")
                let rating = try r.readFloat("rating of event #\(n)")
                guard rating.isFinite else { throw FormatError.invalid("event #\(n) has rating \(rating)") }
                events.append(RatingEvent(user: user, item: item, rating: rating))
            }
            record = .events(events)
        } else {
            record = .replay(count: count)
        }
        guard r.remaining == 0 else { throw FormatError.invalid("\(r.remaining) bytes after the record") }
        return record
    }

    /// The checks of `decodeBody` that need no decoding: a known kind, a
    /// count the body can hold, and for a replay record nothing after it.
    /// Recovery runs them on the records it skips (`LogSegmentReader.scan`).
    public static func checkShape(_ body: UnsafeRawBufferPointer) throws {
        var r = ByteReader(body)
        let (kind, _) = try readShape(&r)
        guard kind == kindEvents || r.remaining == 0 else {
            throw FormatError.invalid("\(r.remaining) bytes after the record")
        }
    }

    /// Reads a body's kind and count, refusing unknown kinds and counts it cannot hold.
    private static func readShape(_ r: inout ByteReader) throws -> (kind: UInt8, count: Int) {
        let kind = try r.read(UInt8.self, "record kind")
        let count = Int(try r.read(UInt32.self, "record count"))
        switch kind {
        case kindEvents:
            // An event takes at least 2 + 2 + 4 bytes (two empty text IDs would
            // be 3 each, numbers 9): refuse counts the body cannot hold before
            // reserving memory for them.
            try r.require(count.multipliedReportingOverflow(by: 8).overflow ? -1 : count * 8, for: "\(count) events")
        case kindReplay:
            guard count <= maxReplayCount else { throw FormatError.invalid("replay of \(count) steps (at most \(maxReplayCount))") }
        default:
            throw FormatError.invalid("unknown record kind \(kind)")
        }
        return (kind, count)
    }

    private static func readID(_ r: inout ByteReader, _ what: @autoclosure () -> String) throws -> ExternalID {
        switch try r.read(UInt8.self, "\(what()) tag") {
        case 0:
            return .number(try r.read(UInt64.self, what()))
        case 1:
            let length = Int(try r.read(UInt16.self, "\(what()) length"))
            let bytes = try r.readBytes(count: length, what())
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw FormatError.invalid("\(what()) is not valid UTF-8")
            }
            guard !text.isEmpty, ExternalID(text) == .text(text) else {
                throw FormatError.invalid("\(what()) is not canonical text: \"\(text)\"")
            }
            return .text(text)
        case let tag:
            throw FormatError.invalid("\(what()) has unknown tag \(tag)")
        }
    }
}
