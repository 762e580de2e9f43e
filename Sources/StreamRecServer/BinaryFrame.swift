import StreamRecCore

/// The compact binary ingest format (version 1), shared by the PULL socket
/// with JSON and told apart by its first byte. Layout in docs/PROTOCOL.md.
///
/// A frame is a batch: a 6-byte header (magic, version, event count), then
/// each event as a flags byte, the user ID, the item ID, a Float32 rating and
/// an optional Int64 timestamp, all little-endian. Integer IDs are 8 raw
/// bytes, so decoding one costs no String and no allocation.
public enum BinaryFrame {
    /// First byte of every binary frame. 0xB5 is a UTF-8 continuation byte,
    /// so it can start neither JSON nor any UTF-8 text.
    public static let magic: UInt8 = 0xB5
    public static let version: UInt8 = 1
    /// magic, version, UInt32 event count.
    public static let headerSize = 6

    /// Bits of an event's flags byte.
    enum Flag {
        static let userIsText: UInt8 = 1 << 0
        static let itemIsText: UInt8 = 1 << 1
        static let hasTimestamp: UInt8 = 1 << 2
        static let known: UInt8 = userIsText | itemIsText | hasTimestamp
    }

    /// True when `message` is meant as a binary frame (by its first byte).
    @inline(__always)
    public static func isBinary(_ message: UnsafeRawBufferPointer) -> Bool {
        message.first == magic
    }

    /// Encodes `events` as one frame. Text IDs longer than 65,535 bytes cannot
    /// be framed (the daemon refuses IDs that long anyway).
    public static func encode(_ events: [RatingEvent]) -> [UInt8] {
        var w = ByteWriter(capacity: headerSize + events.count * 21)
        w.append(magic)
        w.append(version)
        w.append(UInt32(events.count))
        for event in events {
            var flags: UInt8 = event.timestamp == nil ? 0 : Flag.hasTimestamp
            if case .text = event.user { flags |= Flag.userIsText }
            if case .text = event.item { flags |= Flag.itemIsText }
            w.append(flags)
            append(event.user, to: &w)
            append(event.item, to: &w)
            w.append(event.rating)
            if let ts = event.timestamp { w.append(ts) }
        }
        return w.bytes
    }

    private static func append(_ id: ExternalID, to w: inout ByteWriter) {
        switch id {
        case .number(let value):
            w.append(value)
        case .text(let text):
            let utf8 = Array(text.utf8)
            precondition(utf8.count <= Int(UInt16.max), "text ID of \(utf8.count) bytes cannot be framed")
            w.append(UInt16(utf8.count))
            w.append(contentsOf: utf8)
        }
    }
}
