import StreamRecCore

/// Writes events as ingest messages: the inverse of `EventDecoder`.
public enum EventEncoder {
    /// One event as a JSON object; integer IDs go out as JSON numbers.
    public static func json(_ event: RatingEvent) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("user", Engine.json(event.user)), ("item", Engine.json(event.item)), ("rating", .number(event.rating)),
        ]
        if let ts = event.timestamp { members.append(("ts", .number(ts))) }
        return .object(members)
    }

    /// A batch as one JSON array message.
    public static func jsonBatch(_ events: [RatingEvent]) -> [UInt8] {
        JSONValue.array(events.map(json)).bytes
    }
}
