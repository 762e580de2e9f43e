import StreamRecCore

/// Limits an event must respect.
public struct EventLimits: Sendable {
    public var maxIDBytes: Int
    public var maxAbsRating: Float

    public init(maxIDBytes: Int = 256, maxAbsRating: Float = 1e6) {
        self.maxIDBytes = maxIDBytes
        self.maxAbsRating = maxAbsRating
    }
}

/// Turns ingest messages into events, all or nothing.
///
/// A message is either one event object or an array of them. The whole
/// message is checked before anything is applied: one bad event rejects the
/// whole message, so a batch never half-applies.
public enum EventDecoder {
    public static func decode(_ message: UnsafeRawBufferPointer, limits: EventLimits) -> Result<[RatingEvent], Rejection> {
        let json: JSONValue
        do {
            json = try JSONParser.parse(message)
        } catch {
            return .failure(Rejection(.notJSON, "\(error)"))
        }
        switch json {
        case .object:
            return Result { [try event(from: json, limits: limits)] }.mapError { $0 as! Rejection }
        case .array(let elements):
            var events: [RatingEvent] = []
            events.reserveCapacity(elements.count)
            for (n, element) in elements.enumerated() {
                do {
                    events.append(try event(from: element, limits: limits))
                } catch var rejection as Rejection {
                    rejection.events = elements.count
                    rejection.detail = "event #\(n) of \(elements.count): \(rejection.detail); whole batch dropped"
                    return .failure(rejection)
                } catch {
                    preconditionFailure("event(from:) throws only Rejection")
                }
            }
            return .success(events)
        default:
            return .failure(Rejection(.badEvent, "expected an event object or an array of them"))
        }
    }

    /// One event from a JSON object: `{"user", "item", "rating", "ts"?}`.
    public static func event(from json: JSONValue, limits: EventLimits) throws -> RatingEvent {
        guard case .object = json else { throw Rejection(.badEvent, "an event must be a JSON object") }
        let user = try id(json["user"], "user", limits: limits)
        let item = try id(json["item"], "item", limits: limits)
        let rating = try self.rating(json["rating"], limits: limits)
        var timestamp: Int64?
        switch json["ts"] {
        case nil, .null?: break
        case .number(let literal)?:
            guard let seconds = Double(literal), seconds.isFinite, abs(seconds) < 1e15 else {
                throw Rejection(.badEvent, "\"ts\" must be Unix seconds")
            }
            timestamp = Int64(seconds)
        default:
            throw Rejection(.badEvent, "\"ts\" must be a number of Unix seconds")
        }
        return RatingEvent(user: user, item: item, rating: rating, timestamp: timestamp)
    }

    /// An ID from a JSON string or number (its literal text), within limits.
    public static func id(_ json: JSONValue?, _ field: String, limits: EventLimits) throws -> ExternalID {
        let text: String
        switch json {
        case nil: throw Rejection(.badEvent, "missing \"\(field)\"")
        case .string(let s)?: text = s
        case .number(let literal)?: text = literal
        default: throw Rejection(.badID, "\"\(field)\" must be a string or a number")
        }
        guard !text.isEmpty else { throw Rejection(.badID, "\"\(field)\" is empty") }
        guard text.utf8.count <= limits.maxIDBytes else {
            throw Rejection(.badID, "\"\(field)\" is longer than \(limits.maxIDBytes) bytes")
        }
        return ExternalID(text)
    }

    /// A rating: a finite JSON number within ±maxAbsRating.
    public static func rating(_ json: JSONValue?, limits: EventLimits) throws -> Float {
        guard let json else { throw Rejection(.badEvent, "missing \"rating\"") }
        guard let value = json.double else { throw Rejection(.badRating, "\"rating\" must be a number") }
        // Checked as given, before rounding to Float: 1000000.03 rounds to 1e6,
        // which would pass a limit of 1e6. The limit is a Float, so a value
        // within it still is after rounding.
        guard value.isFinite, abs(value) <= Double(limits.maxAbsRating) else {
            throw Rejection(.badRating, "\"rating\" must be finite and within ±\(limits.maxAbsRating)")
        }
        return Float(value)
    }
}
