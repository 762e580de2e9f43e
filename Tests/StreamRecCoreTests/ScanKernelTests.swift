import XCTest
@testable import StreamRecCore
import CKernels

/// The C block kernel behind `Model.scan` agrees with the scalar reference,
/// and `top` answers are the ones a plain scalar scan gives.
final class ScanKernelTests: XCTestCase {
    private func randomRow(_ count: Int, _ rng: inout SplitMix64) -> [Float] {
        (0..<count).map { _ in rng.nextSignedUnit() }
    }

    /// |a − b| ≤ 1e-5 relative to the size of the terms summed (Σ|p_i q_i| + |bias|, at least 1).
    private func assertClose(_ a: Float, _ b: Float, scale: Float, _ message: @autoclosure () -> String) {
        XCTAssertLessThanOrEqual(abs(a - b), 1e-5 * max(1, scale), message())
    }

    /// Every path this CPU has matches bias + `FactorKernel.scalarDot` for strides 8–64 and runs of 0–40 and 300 rows.
    func testBlockScorerAgreesWithScalarDot() {
        var rng = SplitMix64(seed: 77)
        XCTAssertTrue(BlockScorer.available.contains(.portable))
        for kernel in BlockScorer.available {
            for stride in Swift.stride(from: 8, through: 64, by: 8) {
                for count in Array(0...40) + [300] {
                    let p = randomRow(stride, &rng), rows = randomRow(count * stride, &rng), bias = randomRow(count, &rng)
                    var scores = [Float](repeating: .nan, count: count + 1)
                    _ = p.withUnsafeBufferPointer { p in rows.withUnsafeBufferPointer { rows in bias.withUnsafeBufferPointer { bias in
                        scores.withUnsafeMutableBufferPointer { out in
                            kernel.score(p.baseAddress!, rows: rows.baseAddress ?? p.baseAddress!, stride: stride,
                                         bias: bias.baseAddress ?? p.baseAddress!, count: count, into: out.baseAddress!)
                        }
                    } } }
                    XCTAssertTrue(scores[count].isNaN, "\(kernel) wrote past row \(count)")
                    for r in 0..<count {
                        let reference = p.withUnsafeBufferPointer { p in rows.withUnsafeBufferPointer { rows in
                            FactorKernel.scalarDot(p.baseAddress!, rows.baseAddress! + r * stride, stride) } }
                        let scale = (0..<stride).reduce(abs(bias[r])) { $0 + abs(p[$1] * rows[r * stride + $1]) }
                        assertClose(scores[r], bias[r] + reference, scale: scale, "\(kernel) stride \(stride) row \(r) of \(count)")
                    }
                }
            }
        }
    }

    /// Every path's cosines match scalarDot(q, r) / (|q| · |r|) to 1e-5 for strides 8–64 and runs of 0–40 and 300 rows, a zero row scores 0, and the returned maximum is the largest cosine.
    func testCosinesAgreeWithScalarReference() {
        var rng = SplitMix64(seed: 78)
        for kernel in BlockScorer.available {
            for stride in Swift.stride(from: 8, through: 64, by: 8) {
                for count in Array(0...40) + [300] {
                    let q = randomRow(stride, &rng)
                    var rows = randomRow(count * stride, &rng)
                    if count > 3 { for i in 0..<stride { rows[3 * stride + i] = 0 } }
                    var cosines = [Float](repeating: .nan, count: count + 1)
                    let qNorm = FactorKernel.scalarDot(q, q, stride).squareRoot()
                    let most = q.withUnsafeBufferPointer { q in rows.withUnsafeBufferPointer { rows in
                        cosines.withUnsafeMutableBufferPointer { out in
                            kernel.cosines(q.baseAddress!, qNorm: qNorm, rows: rows.baseAddress ?? q.baseAddress!,
                                           stride: stride, count: count, into: out.baseAddress!)
                        }
                    } }
                    XCTAssertTrue(cosines[count].isNaN, "\(kernel) wrote past row \(count)")
                    XCTAssertEqual(most, cosines.prefix(count).max() ?? -.infinity, "\(kernel) maximum")
                    for r in 0..<count {
                        let row = Array(rows[r * stride ..< (r + 1) * stride])
                        let norm = FactorKernel.scalarDot(row, row, stride).squareRoot()
                        let reference = norm == 0 ? 0 : FactorKernel.scalarDot(q, row, stride) / (qNorm * norm)
                        XCTAssertEqual(cosines[r], reference, accuracy: 1e-5, "\(kernel) stride \(stride) row \(r) of \(count)")
                    }
                }
            }
        }
    }

    /// On a CPU whose /proc/cpuinfo lists avx2 and fma, the scan runs the AVX2+FMA path.
    func testBestPathUsesAVX2WhenTheCPUHasIt() throws {
        #if arch(x86_64) && os(Linux)
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        guard let flags = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else {
            throw XCTSkip("no flags line in /proc/cpuinfo")
        }
        let set = Set(flags.split(separator: " ").map(String.init))
        XCTAssertEqual(BlockScorer.best, set.contains("avx2") && set.contains("fma") ? .avx2FMA : .portable)
        #else
        throw XCTSkip("x86-64 Linux only")
        #endif
    }

    /// The answer a plain scalar scan gives: allowed rows (candidates once each, or all), best score first, ties to the lower row.
    private func reference(n: Int, vector: UserVector, table: FactorTable, bias: [Float], rows: Int,
                           candidates: [Int32]?, excluded: Set<Int>) -> [(score: Double, row: Int32)] {
        let allowed = (candidates.map { Array(Set($0.map(Int.init))) } ?? Array(0..<rows)).filter { !excluded.contains($0) }
        let scored = allowed.map { i -> (score: Double, row: Int32) in
            let dot = vector.values.withUnsafeBufferPointer { p in table.values.withUnsafeBufferPointer { t in
                FactorKernel.scalarDot(p.baseAddress!, t.baseAddress! + i * table.stride, table.stride) } }
            return (Double(vector.base + bias[i] + dot), Int32(i))
        }
        return Array(scored.sorted { $0.score > $1.score || ($0.score == $1.score && $0.row < $1.row) }.prefix(n))
    }

    /// Same items in the same order as `expected`, except that rows whose reference scores are within 1e-5 may trade places.
    private func assertSameAnswer(_ got: [(score: Double, row: Int32)], _ expected: [(score: Double, row: Int32)],
                                  scoreOf: (Int32) -> Double, _ context: String) {
        XCTAssertEqual(got.count, expected.count, context)
        for (g, e) in zip(got, expected) {
            XCTAssertEqual(g.score, e.score, accuracy: 1e-5 * max(1, abs(e.score)), context)
            if g.row != e.row {
                XCTAssertEqual(scoreOf(g.row), e.score, accuracy: 1e-5 * max(1, abs(e.score)), "\(context): row \(g.row) for \(e.row)")
            }
        }
    }

    /// `scan` (byte shortlist, exact rescoring) on every kernel path returns the scalar reference's rows and scores, with exclusions, a user's rated items, candidates (repeated, excluded) and block edges.
    func testScanMatchesScalarReference() {
        var rng = SplitMix64(seed: 2026)
        for items in [1, 7, 8, 255, 256, 257, 1000, 2100] {
            let model = Model.catalogue(items: items)
            XCTAssertEqual(model.items.count, items)
            for dimension in [5, 32, 40] {
                var table = FactorTable(dimension: dimension)
                for _ in 0..<items {
                    table.values += randomRow(dimension, &rng) + [Float](repeating: 0, count: table.stride - dimension)
                }
                let bias = randomRow(items, &rng).map { $0 * 0.5 }
                let bytes = ByteRows(mirroring: table)
                let vector = UserVector(values: randomRow(dimension, &rng) + [Float](repeating: 0, count: table.stride - dimension),
                                        base: rng.nextSignedUnit() * 3)
                let scoreOf = { (row: Int32) -> Double in
                    self.reference(n: 1, vector: vector, table: table, bias: bias, rows: items, candidates: [row], excluded: [])[0].score
                }
                for filters in 0..<4 {
                    var excluded = RowBitmap(rows: items), excludedSet = Set<Int>()
                    // filters 3: no bitmap, but user 1's rated items (every third item from 1) are left out.
                    let seenBy = filters == 3 ? model.users.index(of: .number(1)) : nil
                    if filters == 3 { excludedSet = Set(Swift.stride(from: 1, to: items, by: 3)) }
                    if filters == 1 || filters == 2 {
                        for _ in 0..<(items / 3) {
                            let i = Int(rng.next() % UInt64(items))
                            excluded.insert(Int32(i))
                            excludedSet.insert(i)
                        }
                    }
                    let candidates: [Int32]? = filters == 2
                        ? (0..<(items / 2 + 2)).map { _ in Int32(rng.next() % UInt64(items)) } : nil
                    for n in [0, 1, 10, 50, items + 5] {
                        let expected = reference(n: n, vector: vector, table: table, bias: bias, rows: items,
                                                 candidates: candidates, excluded: excludedSet)
                        for kernel in BlockScorer.available {
                            let got = model.scan(n: n, vector: vector, table: table, bytes: bytes, bias: bias,
                                                 candidates: candidates,
                                                 excluded: filters == 0 || filters == 3 ? RowBitmap(rows: 0) : excluded,
                                                 seenBy: seenBy, kernel: kernel)
                            assertSameAnswer(got, expected, scoreOf: scoreOf,
                                             "\(kernel) items \(items) k \(dimension) filters \(filters) n \(n)")
                        }
                    }
                }
            }
        }
    }

    /// Where rows differ by far less than a byte step, `scan` still returns the float scan's rows and score bits on
    /// every path: a cluster of 40 near-copies above 2,060 other rows (the shortlist must widen past the cluster) and
    /// 5,000 near-copies (no shortlist can be proven, so every row is scored exactly), with and without a user's rated items.
    func testNearTiesWidenTheShortlistAndStillMatchTheFloatScan() {
        var rng = SplitMix64(seed: 2027)
        for (items, cluster) in [(2100, 40), (5000, 5000)] {
            let model = Model.catalogue(items: items)
            var table = FactorTable(dimension: 32)
            let top = randomRow(32, &rng)
            for i in 0..<items {
                let row = i < cluster ? top.map { $0 + rng.nextSignedUnit() * 1e-4 } : randomRow(32, &rng).map { $0 * 0.3 }
                table.values += row
            }
            let bytes = ByteRows(mirroring: table), bias = [Float](repeating: 0, count: items)
            let vector = UserVector(values: top, base: 1)
            let everyRow = (0..<Int32(items)).map { $0 }
            for seenBy in [nil, model.users.index(of: .number(1))] {
                for kernel in BlockScorer.available {
                    let expected = model.scan(n: 10, vector: vector, table: table, bytes: bytes, bias: bias, candidates: everyRow,
                                              excluded: RowBitmap(rows: 0), seenBy: seenBy, kernel: kernel)
                    XCTAssertEqual(expected.count, 10)
                    let got = model.scan(n: 10, vector: vector, table: table, bytes: bytes, bias: bias, candidates: nil,
                                         excluded: RowBitmap(rows: 0), seenBy: seenBy, kernel: kernel)
                    let context = "\(kernel) items \(items) cluster \(cluster) seen by \(String(describing: seenBy))"
                    XCTAssertEqual(got.map(\.row), expected.map(\.row), context)
                    XCTAssertEqual(got.map(\.score), expected.map(\.score), context)
                }
            }
        }
    }

    /// A row holding an infinity, a vector holding one, and a row that becomes finite again: `scan` gives the float
    /// scan's answer on every path (byte scores of such rows are NaN, so it scans in floats while one exists).
    func testNonFiniteRowsAndVectorsScanInFloats() {
        var rng = SplitMix64(seed: 2028)
        let items = 600, model = Model.catalogue(items: items)
        var table = FactorTable(dimension: 32)
        for _ in 0..<items { table.values += randomRow(32, &rng) }
        let bias = [Float](repeating: 0, count: items), everyRow = (0..<Int32(items)).map { $0 }
        var infinite = table
        infinite.values[417 * 32 + 3] = .infinity
        var vector = UserVector(values: randomRow(32, &rng), base: 0)
        vector.values[3] = 0.5
        var infiniteVector = vector
        infiniteVector.values[5] = -.infinity
        var bytes = ByteRows(mirroring: infinite)
        XCTAssertEqual(bytes.nonFiniteRows, 1)
        let cases = [("infinite row", vector, infinite, bytes), ("infinite vector", infiniteVector, table, ByteRows(mirroring: table))]
        for (name, vector, table, bytes) in cases {
            for kernel in BlockScorer.available {
                let expected = model.scan(n: 5, vector: vector, table: table, bytes: bytes, bias: bias, candidates: everyRow,
                                          excluded: RowBitmap(rows: 0), kernel: kernel)
                let got = model.scan(n: 5, vector: vector, table: table, bytes: bytes, bias: bias, candidates: nil,
                                     excluded: RowBitmap(rows: 0), kernel: kernel)
                XCTAssertEqual(got.map(\.row), expected.map(\.row), "\(name) \(kernel)")
                XCTAssertEqual(got.map(\.score.bitPattern), expected.map(\.score.bitPattern), "\(name) \(kernel)")
            }
        }
        XCTAssertEqual(model.scan(n: 1, vector: vector, table: infinite, bytes: bytes, bias: bias, candidates: nil,
                                  excluded: RowBitmap(rows: 0)).first?.row, 417)
        table.values.withUnsafeBufferPointer { bytes.set(row: 417, from: $0.baseAddress! + 417 * 32) }
        XCTAssertEqual(bytes.nonFiniteRows, 0, "a row written finite again is counted out")
    }

    /// `top` for stored users of a trained model (ranking and neighbour heads on, 3,000 items) equals a scalar scan of that user's vector and biases.
    func testTopUnchangedAgainstScalarScan() {
        var settings = ModelSettings()
        settings.reservoirSize = 0
        var model = Model(settings: settings)
        var rng = SplitMix64(seed: 31)
        for _ in 0..<30_000 {
            model.observe(RatingEvent(user: .number(rng.next() % 500), item: .number(rng.next() % 3000),
                                      rating: Float(1 + rng.next() % 10)))
        }
        XCTAssertTrue(model.hasRankingHead && model.hasNeighbourHead)
        let items = model.items.count
        for u in 0..<40 {
            let user = ExternalID.number(UInt64(u * 7))
            guard let row = model.users.index(of: user) else { continue }
            let vector = model.storedVector(Int(row))
            let bias = model.neighbourBias(Array(model.neighbourHead.liked.recent(row, limit: settings.neighbourHistory)), over: model.itemRankBias)
            let expected = reference(n: 10, vector: vector, table: model.itemRankFactors, bias: bias,
                                     rows: items, candidates: nil, excluded: [])
            let got = model.top(user: user, n: 10, excludeSeen: false)
            XCTAssertEqual(got.source, .model)
            let scoreOf = { (row: Int32) -> Double in
                self.reference(n: 1, vector: vector, table: model.itemRankFactors, bias: bias, rows: items,
                               candidates: [row], excluded: [])[0].score
            }
            let rows = got.items.map { model.items.index(of: $0.item)! }
            assertSameAnswer(zip(got.items, rows).map { (Double($0.0.score), $0.1) }, expected, scoreOf: scoreOf, "user \(u * 7)")
        }
    }

    /// `rowsAbove` flags exactly the rows with base + score > threshold, NaN never counting, on every path.
    func testRowsAboveFlagsExactlyThePassingRows() {
        var rng = SplitMix64(seed: 5)
        for kernel in BlockScorer.available {
            for count in [0, 1, 7, 8, 9, 31, 63, 64] {
                for _ in 0..<20 {
                    var scores = randomRow(count, &rng)
                    if count > 0, rng.next() % 3 == 0 { scores[Int(rng.next() % UInt64(count))] = .nan }
                    let base = rng.nextSignedUnit(), threshold = rng.nextSignedUnit() + 0.8
                    var expected: UInt64 = 0
                    for (r, s) in scores.enumerated() where base + s > threshold { expected |= 1 << UInt64(r) }
                    let got = scores.withUnsafeBufferPointer {
                        kernel.rowsAbove($0.baseAddress ?? UnsafePointer(bitPattern: 8)!, count: count, base: base, threshold: threshold)
                    }
                    XCTAssertEqual(got, expected, "\(kernel), \(count) scores")
                }
            }
        }
    }

    /// `sr_copy_floats` copies exactly `count` floats, for every count up to 40 and 10,008 and every relative alignment.
    func testCopyFloatsCopiesEveryFloatAndNoMore() {
        var rng = SplitMix64(seed: 9)
        for count in Array(0...40) + [10_008] {
            let source = randomRow(count + 16, &rng)
            for offset in 0..<16 {
                var destination = [Float](repeating: .nan, count: count + 32)
                source.withUnsafeBufferPointer { s in
                    destination.withUnsafeMutableBufferPointer { d in sr_copy_floats(d.baseAddress! + offset, s.baseAddress! + 3, count) }
                }
                XCTAssertEqual(Array(destination[offset ..< offset + count]), Array(source[3 ..< 3 + count]), "\(count) floats at +\(offset)")
                XCTAssertTrue(destination[..<offset].allSatisfy(\.isNaN) && destination[(offset + count)...].allSatisfy(\.isNaN),
                              "\(count) floats at +\(offset) wrote outside the range")
            }
        }
    }
}
