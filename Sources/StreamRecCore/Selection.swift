/// The rules every top-N scan applies to a scored row, in one place: the
/// admission test, the exclusion bitmap, the items the user rated, then the
/// bounded heap.
///
/// A row that cannot beat the worst one kept is rejected with one comparison,
/// before anything else; rated items are looked up in the pair set only for
/// rows that pass it (a few dozen per scan), rather than marking all of a
/// user's rated items in a bitmap first, which needed a per-user list of
/// rated items, the biggest memory cost after the embeddings. Ties go to the
/// earlier row, already kept.
struct Selection {
    private var selector: TopSelector
    /// The score a row must beat to be offered (see `TopSelector.admissionScore`).
    private(set) var admission: Double
    private let excluded: RowBitmap
    private let filtering: Bool
    private let ratedPairs: PairSet
    private let seenBy: Int32?

    /// Keeps the best `n`, skipping rows in `excluded` (an empty bitmap
    /// excludes nothing) and items that user `seenBy` rated in `ratedPairs`.
    init(n: Int, excluded: RowBitmap, seenBy: Int32?, ratedPairs: PairSet) {
        selector = TopSelector(limit: n)
        admission = selector.admissionScore
        self.excluded = excluded
        filtering = !excluded.isEmpty
        self.ratedPairs = ratedPairs
        self.seenBy = seenBy
    }

    /// Offers row `row` with score `value` if the rules let it through.
    @inline(__always)
    mutating func consider(_ row: Int, _ value: Double) {
        guard value > admission, !(filtering && excluded.contains(row)) else { return }
        if let seenBy, ratedPairs.contains(PairSet.key(user: seenBy, item: Int32(row))) { return }
        selector.offer(score: value, row: Int32(row))
        admission = selector.admissionScore
    }

    /// How many rows of a scan's best must be looked at to be sure that `n`
    /// of them would be kept: n plus the excluded rows, which the scan's
    /// kernel cannot tell apart; nil when rated items are skipped too, since
    /// how many of those a user has among any rows is not known in advance.
    var boundRank: Int? { seenBy == nil ? selector.limit + excluded.count : nil }

    /// The rows kept, best first.
    func sorted() -> [(score: Double, row: Int32)] { selector.sorted() }
}
