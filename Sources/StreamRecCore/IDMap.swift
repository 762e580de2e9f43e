/// A two-way map between external IDs and dense row numbers (0, 1, 2, …).
///
/// Integer IDs live in their own table keyed by `UInt64` (`IntegerIDTable`),
/// so looking one up hashes eight bytes and creates no String.
public struct IDMap: Sendable, Equatable {
    private var numbers = IntegerIDTable()
    private var texts: [String: Int32] = [:]
    /// Row number → external ID, in order of first appearance.
    public private(set) var externals: [ExternalID] = []

    public init() {}

    public var count: Int { externals.count }

    /// The row for `id`, or nil when it has never been seen.
    @inline(__always)
    public func index(of id: ExternalID) -> Int32? {
        switch id {
        case .number(let value): return numbers[value]
        case .text(let text): return texts[text]
        }
    }

    /// Starts fetching where `index(of: id)` looks first (integer IDs only).
    @inline(__always)
    func prefetch(_ id: ExternalID) {
        if case .number(let value) = id { numbers.prefetch(value) }
    }

    /// The row for `id`, appending a new one when it is new.
    @inline(__always)
    public mutating func intern(_ id: ExternalID) -> (index: Int32, isNew: Bool) {
        if let index = index(of: id) { return (index, false) }
        let index = Int32(externals.count)
        switch id {
        case .number(let value): numbers.insert(value, row: index)
        case .text(let text): texts[text] = index
        }
        externals.append(id)
        return (index, true)
    }

    /// Rebuilds a map from its rows, as a snapshot stores them.
    public init(externals: [ExternalID]) throws {
        self.externals = []
        self.externals.reserveCapacity(externals.count)
        for id in externals {
            guard intern(id).isNew else { throw ModelError.duplicateID(id.description) }
        }
    }

    public static func == (lhs: IDMap, rhs: IDMap) -> Bool { lhs.externals == rhs.externals }
}
