/// Why an ingested event was dropped: the keys of `events_rejected` in `stats`.
public enum RejectReason: String, Sendable, CaseIterable, Comparable {
    /// The message is not valid JSON (or UTF-8).
    case notJSON = "not_json"
    /// Not an event object or array of them, or a field is missing or of the wrong type.
    case badEvent = "bad_event"
    /// An ID is empty, too long, or not a string or number.
    case badID = "bad_id"
    /// The rating is not a finite number within the accepted range.
    case badRating = "bad_rating"
    /// The message is longer than `--max-message-bytes`.
    case oversized = "oversized"
    /// A binary frame that is truncated, inconsistent or of an unknown version.
    case badFrame = "bad_frame"
    /// A message of several ZeroMQ frames (`ZMQ_SNDMORE`): an ingest message
    /// is one frame, and taking each frame for a message would apply part of it.
    case multipart = "multipart"

    public static func < (a: RejectReason, b: RejectReason) -> Bool { a.rawValue < b.rawValue }
}

/// A dropped message: why, how many events it held, and a line for the log.
public struct Rejection: Error, Sendable, Equatable {
    public var reason: RejectReason
    public var events: Int
    public var detail: String

    public init(_ reason: RejectReason, events: Int = 1, _ detail: String) {
        self.reason = reason
        self.events = events
        self.detail = detail
    }
}
