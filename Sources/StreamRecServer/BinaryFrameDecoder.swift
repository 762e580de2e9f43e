import StreamRecCore

/// Checks and decodes binary frames (see `BinaryFrame`), all or nothing.
///
/// The engine validates a whole frame first and only then walks it again to
/// apply its events, so a bad event anywhere rejects the batch before any of
/// it is learned. Neither pass allocates for integer IDs.
public enum BinaryFrameDecoder {
    /// Checks every byte of `frame`; returns its event count, or why it is refused.
    ///
    /// A frame whose structure is broken (truncated, unknown version or flags,
    /// trailing bytes) is `bad_frame` and counts as one rejected event, since its
    /// count cannot be trusted. A well-formed frame with a bad value counts all
    /// its events under that value's reason (`bad_id`, `bad_rating`, `bad_event`).
    public static func validate(_ frame: UnsafeRawBufferPointer, limits: EventLimits) -> Result<Int, Rejection> {
        walk(frame, checking: limits) { _ in }
    }

    /// Calls `body` with each event of a frame that `validate` accepted.
    @inline(__always)
    public static func forEach(_ frame: UnsafeRawBufferPointer, _ body: (RatingEvent) -> Void) {
        _ = walk(frame, checking: nil, body)
    }

    /// The events of a frame, or why it is refused (for tests and tools).
    public static func decode(_ frame: UnsafeRawBufferPointer, limits: EventLimits) -> Result<[RatingEvent], Rejection> {
        validate(frame, limits: limits).map { collect(frame, count: $0) }
    }

    /// The `count` events of a frame that `validate` accepted, as an array.
    static func collect(_ frame: UnsafeRawBufferPointer, count: Int) -> [RatingEvent] {
        var events: [RatingEvent] = []
        events.reserveCapacity(count)
        forEach(frame) { events.append($0) }
        return events
    }

    /// One pass over the frame: with `limits`, checks every event and calls
    /// `body` with none; without, calls `body` with each (already checked) event.
    @inline(__always)
    private static func walk(_ frame: UnsafeRawBufferPointer, checking limits: EventLimits?,
                             _ body: (RatingEvent) -> Void) -> Result<Int, Rejection> {
        guard frame.count >= BinaryFrame.headerSize, frame[0] == BinaryFrame.magic else {
            return .failure(broken("header is \(frame.count) bytes, needs \(BinaryFrame.headerSize)"))
        }
        guard frame[1] == BinaryFrame.version else {
            return .failure(broken("unsupported binary frame version \(frame[1]) (this daemon reads \(BinaryFrame.version))"))
        }
        let count = Int(UInt32(littleEndian: frame.loadUnaligned(fromByteOffset: 2, as: UInt32.self)))
        var cursor = FrameCursor(frame, offset: BinaryFrame.headerSize)
        var invalid: Rejection?
        for n in 0..<count {
            guard let flags = cursor.byte() else { return .failure(broken("truncated at event #\(n) of \(count)")) }
            guard flags & ~BinaryFrame.Flag.known == 0 else {
                return .failure(broken("event #\(n) has unknown flag bits 0x\(String(flags, radix: 16))"))
            }
            guard let user = cursor.id(text: flags & BinaryFrame.Flag.userIsText != 0),
                  let item = cursor.id(text: flags & BinaryFrame.Flag.itemIsText != 0),
                  let ratingBits = cursor.load(UInt32.self)
            else { return .failure(broken("truncated at event #\(n) of \(count)")) }
            var timestamp: Int64?
            if flags & BinaryFrame.Flag.hasTimestamp != 0 {
                guard let ts = cursor.load(Int64.self) else { return .failure(broken("truncated at event #\(n) of \(count)")) }
                timestamp = ts
            }
            let rating = Float(bitPattern: ratingBits)
            guard let limits else {
                body(RatingEvent(user: user.external, item: item.external, rating: rating, timestamp: timestamp))
                continue
            }
            if invalid == nil, let why = check(user, item, rating, timestamp, limits) {
                invalid = Rejection(why.reason, events: count, "event #\(n) of \(count): \(why.detail); whole frame dropped")
            }
        }
        guard cursor.remaining == 0 else {
            return .failure(broken("\(cursor.remaining) bytes after the \(count) events the header announced"))
        }
        if let invalid { return .failure(invalid) }
        return .success(count)
    }

    private static func broken(_ detail: String) -> Rejection {
        Rejection(.badFrame, events: 1, "binary frame: \(detail)")
    }

    /// The same rules as `EventDecoder` applies to JSON events.
    private static func check(_ user: IDField, _ item: IDField, _ rating: Float, _ timestamp: Int64?,
                              _ limits: EventLimits) -> Rejection? {
        if let why = user.problem(limits) { return Rejection(.badID, "\"user\" \(why)") }
        if let why = item.problem(limits) { return Rejection(.badID, "\"item\" \(why)") }
        guard rating.isFinite, abs(rating) <= limits.maxAbsRating else {
            return Rejection(.badRating, "rating must be finite and within ±\(limits.maxAbsRating)")
        }
        // `magnitude`, not `abs`, which traps on Int64.min (one crafted frame stopped the daemon).
        if let timestamp, timestamp.magnitude >= 1_000_000_000_000_000 {
            return Rejection(.badEvent, "timestamp must be Unix seconds")
        }
        return nil
    }
}

/// An ID as it sits in the frame: a raw integer, or bytes not yet made a String.
private enum IDField {
    case number(UInt64)
    case text(UnsafeRawBufferPointer)

    /// The canonical ID; a text that is a canonical decimal becomes `.number`.
    var external: ExternalID {
        switch self {
        case .number(let value): return .number(value)
        case .text(let bytes): return ExternalID(utf8: bytes)
        }
    }

    /// Why this ID breaks `limits`, or nil.
    func problem(_ limits: EventLimits) -> String? {
        switch self {
        case .number(let value):
            return value.decimalDigits > limits.maxIDBytes ? "is longer than \(limits.maxIDBytes) bytes" : nil
        case .text(let bytes):
            if bytes.isEmpty { return "is empty" }
            if bytes.count > limits.maxIDBytes { return "is longer than \(limits.maxIDBytes) bytes" }
            if !bytes.allSatisfy({ $0 < 0x80 }), String(validating: bytes, as: UTF8.self) == nil {
                return "is not valid UTF-8"
            }
            return nil
        }
    }
}

private extension UInt64 {
    var decimalDigits: Int {
        var digits = 1, rest = self
        while rest >= 10 { rest /= 10; digits += 1 }
        return digits
    }
}

/// Bounds-checked little-endian reads over a frame; nil means "ran off the end".
private struct FrameCursor {
    let bytes: UnsafeRawBufferPointer
    var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    @inline(__always)
    mutating func load<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard remaining >= MemoryLayout<T>.size else { return nil }
        defer { offset += MemoryLayout<T>.size }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    @inline(__always)
    mutating func byte() -> UInt8? { load(UInt8.self) }

    /// An 8-byte integer ID, or a UInt16 length and that many bytes of text.
    @inline(__always)
    mutating func id(text: Bool) -> IDField? {
        guard text else { return load(UInt64.self).map(IDField.number) }
        guard let length = load(UInt16.self), remaining >= Int(length) else { return nil }
        defer { offset += Int(length) }
        return .text(UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + Int(length)]))
    }
}
