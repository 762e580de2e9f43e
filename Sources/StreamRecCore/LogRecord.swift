/// One entry of the write-ahead log: something the daemon did to the model,
/// in the order it did it, so that replaying the entries on the snapshot the
/// log starts from rebuilds the model bit for bit.
public enum LogRecord: Equatable, Sendable {
    /// One accepted ingest message or `observe` event(s), applied in order.
    /// A message is one record, so a torn tail loses a message whole, never
    /// half of it: the same all-or-nothing rule ingest itself follows.
    case events([RatingEvent])
    /// `count` background-replay steps (`Model.replay(count:)`). Replay draws
    /// from the model's own generator, so logging the count is enough to make
    /// it deterministic; without it a log replay would miss those SGD steps
    /// and recovery with background replay on could not be exact.
    case replay(count: Int)

    /// Applies the record to `model`, exactly as the daemon applied it.
    public func apply(to model: inout Model) {
        switch self {
        case .events(let events): model.observe(events[...])
        case .replay(let count): model.replay(count: count)
        }
    }

    /// Events this record adds to the model (replays add none).
    public var eventCount: Int {
        if case .events(let events) = self { return events.count }
        return 0
    }
}
