/// A user or item ID as the outside world names it.
///
/// An ID is its decimal text: the JSON number `42`, the string `"42"` and the
/// binary integer 42 are one ID. Canonical unsigned decimals (no sign, no
/// leading zero, at most 2^64-1) are kept as `.number`, so integer IDs never
/// cost a String; everything else is `.text`.
public enum ExternalID: Hashable, Sendable, CustomStringConvertible {
    case number(UInt64)
    case text(String)

    /// The canonical form of `text`: `.number` when it is a canonical decimal.
    public init(_ text: String) {
        if let value = ExternalID.canonicalDecimal(text.utf8) {
            self = .number(value)
        } else {
            self = .text(text)
        }
    }

    /// The canonical form of UTF-8 bytes, parsing integers without making a String.
    public init(utf8 bytes: UnsafeRawBufferPointer) {
        if let value = ExternalID.canonicalDecimal(bytes) {
            self = .number(value)
        } else {
            self = .text(String(decoding: bytes, as: UTF8.self))
        }
    }

    public var description: String {
        switch self {
        case .number(let value): return String(value)
        case .text(let text): return text
        }
    }

    /// Length of the ID's text in UTF-8 bytes, for the ID length limit.
    public var utf8Count: Int {
        switch self {
        case .number(let value): return String(value).utf8.count
        case .text(let text): return text.utf8.count
        }
    }

    /// Parses a canonical unsigned decimal: digits only, no leading zero unless
    /// it is "0", and no overflow.
    static func canonicalDecimal<Bytes: Collection>(_ bytes: Bytes) -> UInt64? where Bytes.Element == UInt8 {
        guard let first = bytes.first, bytes.count <= 20 else { return nil }
        if first == UInt8(ascii: "0") { return bytes.count == 1 ? 0 : nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            value = sum
        }
        return value
    }
}
