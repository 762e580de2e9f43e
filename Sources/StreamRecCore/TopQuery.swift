/// Who to recommend for, and which items may appear.
public struct TopQuery: Sendable {
    /// A stored user, or an anonymous one described by the items they
    /// interacted with (a rating per item, or nil for "liked").
    public enum Who: Sendable {
        case user(ExternalID)
        case anonymous([(item: ExternalID, rating: Float?)])
    }

    public var who: Who
    public var n: Int
    /// Leave out what the user rated (for anonymous users: the given items).
    public var excludeSeen: Bool
    /// Items never to return.
    public var exclude: [ExternalID]
    /// When set, only these items may be returned.
    public var candidates: [ExternalID]?
    /// Whether a scan over a large catalogue may take a second core through
    /// `ScanSplitter`'s helper. The daemon clears it under `--query-threads 1`,
    /// where queries are to use one core.
    public var sharesScan = true

    public init(_ who: Who, n: Int = 10, excludeSeen: Bool = true, exclude: [ExternalID] = [],
                candidates: [ExternalID]? = nil) {
        self.who = who
        self.n = n
        self.excludeSeen = excludeSeen
        self.exclude = exclude
        self.candidates = candidates
    }
}

/// Item rows to leave out, one bit per row, so filtering a scan costs a
/// shift and a mask per candidate rather than a hash lookup.
struct RowBitmap {
    private(set) var words: [UInt64]
    /// Rows inserted (each once).
    private(set) var count = 0

    init(rows: Int) { words = [UInt64](repeating: 0, count: (rows + 63) / 64) }

    /// True until a row is inserted: a scan then skips the test for every row.
    var isEmpty: Bool { count == 0 }

    mutating func insert(_ row: Int32) {
        let bit: UInt64 = 1 << UInt64(Int(row) & 63)
        if words[Int(row) >> 6] & bit == 0 { count += 1 }
        words[Int(row) >> 6] |= bit
    }

    @inline(__always)
    func contains(_ row: Int) -> Bool { words[row >> 6] & (1 << UInt64(row & 63)) != 0 }
}
