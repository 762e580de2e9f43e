/// A parsed JSON value.
///
/// Numbers keep their literal text: an ID like 18446744073709551615 stays
/// exact (a Double could not hold it), and `42` and `"42"` can be made the
/// same ID. Objects keep their members in order, so replies list `ok` first.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    /// The member named `key` of an object, or nil.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The value as a Double when it is a number.
    public var double: Double? {
        guard case .number(let literal) = self else { return nil }
        return Double(literal)
    }

    /// A number from a Float; non-finite values become `null`, which JSON has
    /// no numbers for.
    public static func number(_ value: Float) -> JSONValue {
        value.isFinite ? .number(value.description) : .null
    }

    public static func number<I: BinaryInteger>(_ value: I) -> JSONValue { .number(String(value)) }

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }
}
