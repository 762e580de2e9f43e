import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// Top-N, popular and similar items: the model's read-only answers.
extension Model {
    /// The user's `n` best items, leaving out what they rated unless
    /// `excludeSeen` is false. A user with no events gets `popular(n:)`.
    public func top(user: ExternalID, n: Int, excludeSeen: Bool = true)
        -> (items: [(item: ExternalID, score: Float)], source: AnswerSource)
    {
        top(TopQuery(.user(user), n: n, excludeSeen: excludeSeen))
    }

    /// The best items for a stored or anonymous user, within the query's filters.
    ///
    /// Items are ranked by the embedding score plus the neighbour score (see
    /// `neighbourBias`). The embedding score is the ranking head's (unitless)
    /// score with pairwise ranking on, otherwise the unclamped predicted
    /// rating, so the order among items predicted above the top of the scale
    /// is kept. A user the model cannot place (unknown, or anonymous with no
    /// known items) gets the popularity list, with the item's popularity
    /// count as its score and `.popular` as the source.
    public func top(_ query: TopQuery) -> (items: [(item: ExternalID, score: Float)], source: AnswerSource) {
        precondition(detachedNeighbourRatings == nil, "top needs the neighbour head, which is detached")
        var excluded = RowBitmap(rows: items.count)
        for id in query.exclude { if let i = items.index(of: id) { excluded.insert(i) } }
        let candidates = query.candidates.map { $0.compactMap { items.index(of: $0) } }

        let vector: UserVector?
        var seenBy: Int32? = nil
        var likes: [Int32] = []
        switch query.who {
        case .user(let id):
            guard let u = users.index(of: id) else { vector = nil; break }
            if query.excludeSeen { seenBy = u }
            if hasNeighbourHead { likes = Array(neighbourHead.liked.recent(u, limit: settings.neighbourHistory)) }
            vector = storedVector(Int(u))
        case .anonymous(let given):
            let known = given.compactMap { g in items.index(of: g.item).map { (item: $0, rating: g.rating ?? maxRatingSeen) } }
            if query.excludeSeen { for g in known { excluded.insert(g.item) } }
            var listed = RowBitmap(rows: items.count)  // an item given twice is one like
            for g in known where g.rating >= settings.positiveThreshold && !listed.contains(Int(g.item)) {
                listed.insert(g.item)
                likes.append(g.item)
            }
            likes = Array(likes.suffix(settings.neighbourHistory))
            vector = known.isEmpty ? nil : foldIn(known)
        }
        guard let vector else {
            let best = select(n: query.n, candidates: candidates, excluded: excluded) { Double(popularity[$0]) }
            return (best.map { (items.externals[Int($0.row)], Float($0.score)) }, .popular)
        }
        if candidates == nil, query.sharesScan { expectTopScan() }
        let bias = neighbourBias(likes, over: hasRankingHead ? itemRankBias : itemBias)
        let best = scan(n: query.n, vector: vector, table: scannedItems, bytes: scannedBytes, bias: bias,
                        candidates: candidates, excluded: excluded, seenBy: seenBy, sharing: query.sharesScan)
        return (best.map { (items.externals[Int($0.row)], Float($0.score)) }, .model)
    }

    /// Wakes `ScanSplitter`'s helper if a `top` over all items would share
    /// its scan now, so that the helper's wake-up (tens of microseconds in
    /// a VM whose other vCPU sleeps) overlaps the work before the scan:
    /// `top` calls it before building the neighbour biases, and the daemon
    /// when it hands a `top` to a query worker.
    public func expectTopScan() {
        if items.count >= Self.splitScanRows { ScanSplitter.shared.expectJob() }
    }

    /// The item biases `top` scans with: `bias` plus, for each neighbour j of
    /// the user's recent likes, w · (co-likes of j) / (likes · (popularity_j + 1)^x).
    ///
    /// Folding the neighbour score into the per-item bias keeps one scan loop
    /// for both heads. The counts are averaged over the likes so the weight
    /// means the same for a user with 3 likes and one with 50; the popularity
    /// power stops items everyone likes from topping every list. On the anime
    /// stream the blend lifts prequential HR@10 from 0.066 (embeddings alone)
    /// to above popularity (see docs/EVALUATION.md).
    func neighbourBias(_ likes: [Int32], over bias: [Float]) -> [Float] {
        // No copy when no liked item holds a neighbour yet (a sparse model:
        // the copy alone was a fifth of a top-10 at 100 k items).
        guard hasNeighbourHead, likes.contains(where: { neighbourHead.neighbours.rows[Int($0)].count > 0 }) else { return bias }
        let scale = settings.neighbourWeight / Float(likes.count)
        // One copy per query, only the neighbours' entries change, and eight
        // spare floats past the end (see `NeighbourCounts.addWeighted`).
        // (`bias + repeatElement(0, count: 8)` appended element by element:
        // 0.2 ms a query at 100 k items; `initialize(from:)`, a memmove,
        // ran at 2 GB/s here, see `sr_copy_floats`.)
        var combined = [Float](unsafeUninitializedCapacity: bias.count + 8) { buffer, initialized in
            bias.withUnsafeBufferPointer { sr_copy_floats(buffer.baseAddress!, $0.baseAddress!, bias.count) }
            buffer[bias.count...].initialize(repeating: 0)
            initialized = bias.count + 8
        }
        // Every liked item's table header first, so that those misses overlap.
        for k in likes { neighbourHead.neighbours.prefetchRow(k) }
        neighbourHead.neighbours.damping.withUnsafeBufferPointer { damping in
            combined.withUnsafeMutableBufferPointer { combined in
                for k in likes {
                    neighbourHead.neighbours.rows[Int(k)].addWeighted(scale: scale, damping: damping.baseAddress!,
                                                                      into: combined.baseAddress!, spare: bias.count)
                }
            }
        }
        return combined
    }

    /// The `n` best rows by base + bias_i + vector · row_i: the hot loop of `top`.
    ///
    /// Scans `bytes` (the 8-bit copy of `table`, a quarter of the bytes and
    /// an integer kernel) for a shortlist by byte scores, then rescores the
    /// shortlist exactly from `table` and keeps the best `n`, so the answer
    /// carries float scores and is the float scan's answer (one summation
    /// order for every row, see `sr_score_rows_on`): the shortlist is wide
    /// enough, by `ByteQuery.errorBound`, that no row outside it can beat
    /// the n-th row inside (`provenShortlist`). When no shortlist up to
    /// `widestShortlist` rows can be proven (near-ties, within the bound,
    /// across more than a thousand rows), or a row or the vector is not
    /// finite, every row is scored in floats (`floatScan`).
    /// With `candidates`, rows are scattered, so each listed row is scored
    /// exactly on its own, under the same `Selection` rules. `kernel` picks
    /// the path (tests run both); `sharing` lets a long scan use
    /// `ScanSplitter`'s helper.
    func scan(n: Int, vector: UserVector, table: FactorTable, bytes: ByteRows, bias: [Float], candidates: [Int32]?,
              excluded: RowBitmap, seenBy: Int32? = nil, kernel: BlockScorer = .best, sharing: Bool = true)
        -> [(score: Double, row: Int32)]
    {
        let stride = table.stride, base = vector.base, rowCount = items.count
        precondition(table.rows >= rowCount && bytes.rows >= rowCount && bytes.stride == stride
                     && bias.count >= rowCount && vector.values.count >= stride)
        return vector.values.withUnsafeBufferPointer { p in
            table.values.withUnsafeBufferPointer { rows in
                bias.withUnsafeBufferPointer { bias in
                    let p = p.baseAddress!, rows = rows.baseAddress!, bias = bias.baseAddress!
                    let exact = { (i: Int) -> Double in
                        var score: Float = 0
                        kernel.score(p, rows: rows + i * stride, stride: stride, bias: bias + i, count: 1, into: &score)
                        return Double(base + score)
                    }
                    if candidates != nil {
                        return select(n: n, candidates: candidates, excluded: excluded, seenBy: seenBy, score: exact)
                    }
                    let query = ByteQuery(p, stride: stride)
                    let shortlist = !query.isFinite || bytes.nonFiniteRows > 0 ? nil : query.values.withUnsafeBufferPointer { user in
                        bytes.bytes.withUnsafeBufferPointer { byteRows in
                            bytes.scales.withUnsafeBufferPointer { scales in
                                provenShortlist(n: n, seenBy: seenBy, margin: { query.errorBound(bytes, base: base, near: $0) }) { n, seenBy in
                                    byteScan(n: n, query: query, user: user.baseAddress!, base: base,
                                             byteRows: byteRows.baseAddress!, scales: scales.baseAddress!, stride: stride,
                                             bias: bias, excluded: excluded, seenBy: seenBy, kernel: kernel, sharing: sharing)
                                }
                            }
                        }
                    }
                    guard let shortlist else {
                        return floatScan(n: n, p: p, base: base, rows: rows, stride: stride, bias: bias, excluded: excluded,
                                         seenBy: seenBy, kernel: kernel)
                    }
                    // Every float row first, so that their cache misses overlap
                    // (one after another they were a tenth of a top-10 at 10 k items).
                    for kept in shortlist { table.prefetchRow(kept.row) }
                    // In row order, so that ties go to the lower row as in a full scan;
                    // the shortlist already passed the exclusion rules.
                    var selection = Selection(n: n, excluded: RowBitmap(rows: 0), seenBy: nil, ratedPairs: ratedPairs)
                    for row in shortlist.map(\.row).sorted() { selection.consider(Int(row), exact(Int(row))) }
                    return selection.sorted()
                }
            }
        }
    }

    /// Rows beyond `n` that the first byte scan of `scan` keeps: room for
    /// the user's rated items, dropped afterwards, and for rows within the
    /// error bound of the n-th. On a daemon-sized synthetic model (100 k
    /// users, 10 k items, 6 M events) a top-10's 22 rows held 0.74 rated
    /// items on average, and 16 and 32 spare rows were slower (each extra
    /// heap slot lowers the admission score, so more rows reach the heap;
    /// measured with the half-precision scan this one replaced).
    static let shortlistSpare = 12

    /// The most rows `provenShortlist` asks a scan for: the width grows
    /// from n + `shortlistSpare` by 4 × a try (22, 88, 352 and 1,408 rows
    /// for n = 10) while it stays under this, then `scan` falls back to
    /// scoring every row in floats.
    static let widestShortlist = 4096

    /// Rows of byte scans (`scan(width, seenBy)`) that provably hold the
    /// `n` best rows by float score that user `seenBy` has not rated, or
    /// nil when no scan up to `widestShortlist` rows can show it.
    ///
    /// First a scan with no pair lookups for the best n + `shortlistSpare`
    /// rows, then one lookup per row kept, all fetched before any is
    /// tested, so their cache misses overlap (a scan that looks each
    /// admitted row up as it goes waits for one miss after another, a third
    /// of a top-10 on a daemon-sized model). The list is proven when the
    /// scan kept fewer rows than asked (it kept every row it could), or
    /// when its last row scores below the n-th unrated row by more than
    /// twice `margin` (a byte score is within `margin` of the float one, so
    /// no row left out can overtake). Otherwise it scans again: looking
    /// the pairs up as it goes when rated rows left fewer than `n`, four
    /// times as wide when near-ties did.
    private func provenShortlist(n: Int, seenBy: Int32?, margin: (Double) -> Double,
                                 scan: (Int, Int32?) -> [(score: Double, row: Int32)]) -> [(score: Double, row: Int32)]? {
        guard n > 0 else { return [] }
        var width = n + Self.shortlistSpare, lookups = false
        while width <= max(Self.widestShortlist, n + Self.shortlistSpare) {
            let wide = scan(width, lookups ? seenBy : nil)
            var kept = wide
            if let seenBy, !lookups {
                for row in wide { ratedPairs.prefetch(PairSet.key(user: seenBy, item: row.row)) }
                kept = wide.filter { !ratedPairs.contains(PairSet.key(user: seenBy, item: $0.row)) }
            }
            if wide.count < width { return kept }
            guard kept.count >= n else {
                lookups = true
                continue
            }
            let nth = kept[n - 1].score, cut = wide[width - 1].score
            let error = margin(max(abs(nth), abs(cut)))
            if cut + error < nth - error { return kept }
            width *= 4
        }
        return nil
    }

    /// The `n` best rows by float scores over every row, in blocks of the
    /// float kernel (on one core): `scan`'s answer when no byte shortlist
    /// can be proven. A row scores the same bits here as in rescoring.
    private func floatScan(n: Int, p: UnsafePointer<Float>, base: Float, rows: UnsafePointer<Float>, stride: Int,
                           bias: UnsafePointer<Float>, excluded: RowBitmap, seenBy: Int32?,
                           kernel: BlockScorer) -> [(score: Double, row: Int32)] {
        var selection = Selection(n: n, excluded: excluded, seenBy: seenBy, ratedPairs: ratedPairs)
        scanBlocks(0..<items.count, base: base, kernel: kernel, into: &selection) { start, count, scores in
            kernel.score(p, rows: rows + start * stride, stride: stride, bias: bias + start, count: count, into: scores)
        }
        return selection.sorted()
    }

    /// The `n` best rows by their byte scores: blocks of
    /// `BlockScorer.blockRows` rows per call to the C block kernel; a
    /// block whose best score cannot pass the admission test is skipped
    /// whole, and of the others only the rows that pass it are offered to
    /// a `Selection`. From `splitScanRows` rows on, and when `sharing`, the
    /// rows are shared with `ScanSplitter`'s helper, one `Selection` per lane.
    private func byteScan(n: Int, query: ByteQuery, user: UnsafePointer<Int8>, base: Float, byteRows: UnsafePointer<UInt8>,
                          scales: UnsafePointer<Float>, stride: Int, bias: UnsafePointer<Float>, excluded: RowBitmap,
                          seenBy: Int32?, kernel: BlockScorer, sharing: Bool) -> [(score: Double, row: Int32)]
    {
        let rowCount = items.count, chunk = Self.splitChunkRows
        var lanes = [Selection](repeating: Selection(n: n, excluded: excluded, seenBy: seenBy, ratedPairs: ratedPairs),
                                count: sharing && rowCount >= Self.splitScanRows ? ScanSplitter.lanes : 1)
        lanes.withUnsafeMutableBufferPointer { buffer in
            let lanes = buffer.baseAddress!
            let scanChunk = { (lane: Int, chunk: Range<Int>) in
                byteScan(query: query, user: user, base: base, byteRows: byteRows, scales: scales, stride: stride,
                         bias: bias, kernel: kernel, rows: chunk, into: &lanes[lane])
            }
            guard buffer.count > 1 else { return scanChunk(0, 0..<rowCount) }
            ScanSplitter.shared.run(chunks: (rowCount + chunk - 1) / chunk) { lane, c in
                scanChunk(lane, c * chunk ..< min(rowCount, (c + 1) * chunk))
            }
        }
        return Self.merge(lanes.map { $0.sorted() }, n: n)
    }

    /// The best `n` of the lanes' lists, best first, ties to the lower row.
    ///
    /// Each lane kept its best n of the rows it saw, so the best n of all
    /// the lists, in the heap's order, is the best n of all rows: what one
    /// lane would have kept.
    static func merge(_ lanes: [[(score: Double, row: Int32)]], n: Int) -> [(score: Double, row: Int32)] {
        let all = lanes.joined().sorted { $0.score > $1.score || ($0.score == $1.score && $0.row < $1.row) }
        return Array(all.prefix(n))
    }

    /// Rows from which `byteScan` shares a scan with `ScanSplitter`'s helper.
    /// Not at 10 k items: with 4,096 (and chunks of 1,024) a top-10 over
    /// 10 k items, ~20 µs of scan, got slower in the daemon (176–207 against
    /// 143–168 µs round trip): the helper's wake-up costs more than it saves.
    static let splitScanRows = 32_768

    /// Rows per chunk a lane claims: 256 KiB of byte rows at k = 32, a few
    /// microseconds of work, so the caller's final wait for the helper's
    /// chunk is short, and thirty-two blocks, so each claim is rare.
    static let splitChunkRows = 8_192

    /// Scores `rows` in blocks of `BlockScorer.blockRows` and offers them
    /// to `selection`.
    private func byteScan(query: ByteQuery, user: UnsafePointer<Int8>, base: Float, byteRows: UnsafePointer<UInt8>,
                          scales: UnsafePointer<Float>, stride: Int, bias: UnsafePointer<Float>, kernel: BlockScorer,
                          rows: Range<Int>, into selection: inout Selection) {
        assert(rows.lowerBound % ByteRows.blockRows == 0, "byte rows are scanned from a block boundary")
        scanBlocks(rows, base: base, kernel: kernel, into: &selection) { start, count, scores in
            kernel.score(query, user: user, byteRows: byteRows + start * stride, scales: scales + start, stride: stride,
                         bias: bias + start, count: count, into: scores)
        }
    }

    /// The block loop of `top`'s scan and of `similar`: `score(start, count,
    /// into:)` writes the scores of rows `start ..< start + count` (base
    /// left out) and returns the largest; a block whose best cannot pass
    /// the admission test is skipped, and of the others `offerBlock` offers
    /// the rows that pass it.
    ///
    /// Blocks are scored a group (`groupBlocks`) at a time before any row
    /// is offered, so that the group's block maxima give a floor first:
    /// the r-th largest of them (`Selection.boundRank`) is the score of r
    /// distinct rows, so no row below it can be among the best the
    /// selection keeps. Without it, a scan offered every row that beat the
    /// best seen so far in row order, about n · ln(rows / n) heap
    /// insertions, a fifth of a top-10 over 10 k items (perf).
    @inline(__always)
    private func scanBlocks(_ rows: Range<Int>, base: Float, kernel: BlockScorer, into selection: inout Selection,
                            score: (Int, Int, UnsafeMutablePointer<Float>) -> Float) {
        let blockRows = BlockScorer.blockRows, groupRows = Self.groupBlocks * blockRows
        withUnsafeTemporaryAllocation(of: Float.self, capacity: groupRows + Self.groupBlocks) { buffer in
            let scores = buffer.baseAddress!, maxima = scores + groupRows
            var group = rows.lowerBound
            while group < rows.upperBound {
                let end = min(group + groupRows, rows.upperBound)
                let blocks = (end - group + blockRows - 1) / blockRows
                for b in 0..<blocks {
                    let start = group + b * blockRows
                    maxima[b] = score(start, min(blockRows, end - start), scores + b * blockRows)
                }
                let floor = Self.floor(maxima, count: blocks, rank: selection.boundRank, base: base, above: selection.admission)
                // Compared as the rules compare, after adding base: two
                // maxima that round to one sum tie, and the earlier row wins.
                let bar = base + floor
                for b in 0..<blocks where base + maxima[b] >= bar {
                    let start = group + b * blockRows
                    // Once the heap is full, most blocks hold no row that
                    // beats the admission score (addition is monotonic,
                    // so base + max bounds every row's value).
                    if Double(base + maxima[b]) > selection.admission {
                        offerBlock(scores + b * blockRows, count: min(blockRows, end - start), from: start, base: base,
                                   floor: floor, kernel: kernel, to: &selection)
                    }
                }
                group = end
            }
        }
    }

    /// Blocks `scanBlocks` scores before offering any of their rows: 8,192
    /// rows at 256 a block, 32 KiB of scores, which stay in L1 and L2.
    static let groupBlocks = 32

    /// The `rank`-th largest of `count` block maxima, or −∞ when there are
    /// fewer, `rank` is nil, or fewer than `rank` maxima beat `above` (the
    /// admission score, which then already bars more than the floor would).
    private static func floor(_ maxima: UnsafeMutablePointer<Float>, count: Int, rank: Int?, base: Float,
                              above admission: Double) -> Float {
        guard let rank, rank > 0, rank <= count else { return -.infinity }
        var passing = 0
        for b in 0..<count where Double(base + maxima[b]) > admission { passing += 1 }
        guard passing >= rank else { return -.infinity }
        // Insertion sort, largest first, of at most `groupBlocks` values:
        // no allocation (Array's sort may take a buffer). No maximum is NaN:
        // the kernel ignores NaN scores.
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: count) { sorted in
            for b in 0..<count {
                var j = b
                while j > 0, sorted[j - 1] < maxima[b] {
                    sorted[j] = sorted[j - 1]
                    j -= 1
                }
                sorted[j] = maxima[b]
            }
            return sorted[rank - 1]
        }
    }

    /// Offers the rows of `first ..< first + count`, scored base +
    /// `scores[j]`, that pass the admission test to `selection`: a block
    /// that passes the block test mostly holds one or two rows that do
    /// (while the heap fills, nearly every row does), and the kernel's
    /// vector comparison (`rowsAbove`) finds them without a look at the
    /// rest. Offering each row cost a conversion and a comparison (half of
    /// the scan's own time, perf); offering each row of a run of eight that
    /// held a passing row, 3.4 of the 30 µs of a top-10 over 10 k items
    /// on a daemon-sized model.
    ///
    /// The rows are picked against the admission score at the block's
    /// start; it only rises, and `consider` tests each picked row against
    /// the current one. That score is narrowed to Float downwards, so the
    /// test in Float never skips a row `consider` would take.
    /// Rows scored below `floor` are not offered either: base + score >
    /// (base + floor).nextDown holds for every score ≥ floor, since adding
    /// base is monotonic.
    @inline(__always)
    private func offerBlock(_ scores: UnsafePointer<Float>, count: Int, from first: Int, base: Float, floor: Float,
                            kernel: BlockScorer, to selection: inout Selection) {
        let bar = Float(selection.admission)
        let threshold = max(Double(bar) > selection.admission ? bar.nextDown : bar, (base + floor).nextDown)
        var word = 0
        while word * 64 < count {
            let start = word * 64
            var rows = kernel.rowsAbove(scores + start, count: min(64, count - start), base: base, threshold: threshold)
            while rows != 0 {
                let r = start + rows.trailingZeroBitCount
                rows &= rows - 1
                selection.consider(first + r, Double(base + scores[r]))
            }
            word += 1
        }
    }

    /// The `n` items rated by the most distinct users, most first; ties go to
    /// the item that appeared first in the stream.
    public func popular(n: Int) -> [(item: ExternalID, count: UInt32)] {
        select(n: n, candidates: nil, excluded: RowBitmap(rows: 0)) { Double(popularity[$0]) }
            .map { (items.externals[Int($0.row)], UInt32($0.score)) }
    }

    /// The `n` items nearest to `item` by cosine similarity of rating-head
    /// embeddings, nearest first; nil when the item is unknown.
    ///
    /// Blocks of `BlockScorer.blockRows` rows go through the C cosine
    /// kernel, and a block whose best cosine cannot pass the admission test
    /// is skipped, as in `top`'s scan. (Three Swift `SIMD8` dot products
    /// and a square root per item cost ~13 ns an item, 1.3 ms a query at
    /// 100 k items.)
    public func similar(item: ExternalID, n: Int, kernel: BlockScorer = .best) -> [(item: ExternalID, score: Float)]? {
        guard let target = items.index(of: item) else { return nil }
        let stride = itemFactors.stride
        var excluded = RowBitmap(rows: items.count)
        excluded.insert(target)
        var selection = Selection(n: n, excluded: excluded, seenBy: nil, ratedPairs: ratedPairs)
        itemFactors.values.withUnsafeBufferPointer { rows in
            let rows = rows.baseAddress!, q = rows + Int(target) * stride
            let qNorm = FactorKernel.simdDot(q, q, stride).squareRoot()
            scanBlocks(0..<items.count, base: 0, kernel: kernel, into: &selection) { start, count, cosines in
                kernel.cosines(q, qNorm: qNorm, rows: rows + start * stride, stride: stride, count: count, into: cosines)
            }
        }
        return selection.sorted().map { (items.externals[Int($0.row)], Float($0.score)) }
    }

    /// The `n` best rows by `score`, over `candidates` (all rows when nil),
    /// under the rules of `Selection`: rows in `excluded` and items rated by
    /// user `seenBy` are skipped.
    @inline(__always)
    func select(n: Int, candidates: [Int32]?, excluded: RowBitmap, seenBy: Int32? = nil,
                score: (Int) -> Double) -> [(score: Double, row: Int32)] {
        var selection = Selection(n: n, excluded: excluded, seenBy: seenBy, ratedPairs: ratedPairs)
        if let candidates {
            var offered = RowBitmap(rows: items.count)  // a candidate listed twice is offered once
            for i in candidates where !offered.contains(Int(i)) {
                offered.insert(i)
                selection.consider(Int(i), score(Int(i)))
            }
        } else {
            for i in 0..<items.count { selection.consider(i, score(i)) }
        }
        return selection.sorted()
    }

    /// The highest rating seen, the rating an anonymous "liked" item counts as.
    var maxRatingSeen: Float { maxRating.isFinite ? maxRating : 1 }
}

/// What `top` scores items with: base + bias_i + values · row_i.
struct UserVector {
    var values: [Float]
    var base: Float
}

extension Model {
    /// A stored user's vector in the head `top` ranks with.
    func storedVector(_ u: Int) -> UserVector {
        let stride = userFactors.stride
        if hasRankingHead {
            return UserVector(values: Array(userRankFactors.values[u * stride ..< (u + 1) * stride]), base: 0)
        }
        return UserVector(values: Array(userFactors.values[u * stride ..< (u + 1) * stride]),
                          base: globalMean + userBias[u])
    }

    /// A temporary user learned from `events` with the item side held fixed:
    /// `passes` rounds of the same per-event steps a stored user takes (the
    /// regression step, and pairwise steps when the ranking head is on),
    /// starting from zero. Nothing in the model changes.
    func foldIn(_ events: [(item: Int32, rating: Float)], passes: Int = 8) -> UserVector {
        let stride = userFactors.stride, k = Float(userFactors.dimension)
        let s = settings, adaptive = s.optimizer == .adaptive
        var p = [Float](repeating: 0, count: stride), rank = p
        var bias: Float = 0, biasSteps: Float = 0, rowPower: Float = 0
        var rng = SplitMix64(seed: s.seed)
        var given = RowBitmap(rows: items.count)
        for e in events { given.insert(e.item) }
        let mean = globalMean
        for _ in 0..<passes {
            for (i, rating) in events {
                let q = Array(itemFactors.values[Int(i) * stride ..< (Int(i) + 1) * stride])
                var dot: Float = 0
                for f in 0..<stride { dot += p[f] * q[f] }
                let error = rating - (mean + bias + itemBias[Int(i)] + dot)
                var stepP = s.learningRate, stepB = s.biasLearningRate
                if adaptive {
                    var power: Float = 0
                    for f in 0..<stride { let g = error * q[f] - s.regularization * p[f]; power += g * g }
                    rowPower += power / k
                    biasSteps += 1
                    stepP = s.learningRate / (rowPower + 1e-6).squareRoot()
                    stepB = 1 / (biasSteps + 1 / s.biasLearningRate)
                }
                bias += stepB * (error - s.regularization * bias)
                for f in 0..<stride { p[f] += stepP * (error * q[f] - s.regularization * p[f]) }

                guard hasRankingHead, rating >= s.positiveThreshold, items.count > events.count else { continue }
                for _ in 0..<s.negatives {
                    let j = Int(rng.next() % UInt64(items.count))
                    if given.contains(j) { continue }
                    var x = itemRankBias[Int(i)] - itemRankBias[j]
                    for f in 0..<stride {
                        x += rank[f] * (itemRankFactors.values[Int(i) * stride + f] - itemRankFactors.values[j * stride + f])
                    }
                    let g = 1 / (1 + expf(min(x, 30)))
                    for f in 0..<stride {
                        let d = itemRankFactors.values[Int(i) * stride + f] - itemRankFactors.values[j * stride + f]
                        rank[f] += s.pairwiseLearningRate * (g * d - s.regularization * rank[f])
                    }
                }
            }
        }
        return hasRankingHead ? UserVector(values: rank, base: 0) : UserVector(values: p, base: mean + bias)
    }
}
