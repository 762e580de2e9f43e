import XCTest
@testable import StreamRecCore

/// The byte mirror quantizes within half a step, and the byte kernel's
/// scores stay within `ByteQuery.errorBound` of the float kernel's.
final class ByteRowsTests: XCTestCase {
    /// A table of `rows` random rows of `dimension` factors in ±`size`, zero padded.
    private func table(rows: Int, dimension: Int, size: Float, _ rng: inout SplitMix64) -> FactorTable {
        var table = FactorTable(dimension: dimension)
        for _ in 0..<rows {
            table.values += (0..<dimension).map { _ in rng.nextSignedUnit() * size }
                + [Float](repeating: 0, count: table.stride - dimension)
        }
        return table
    }

    /// On every kernel path, every row widens back to within half its scale of each float (rows of ±2 and of ±1e-35,
    /// which the AVX2 path hands to the portable one), a zero row has scale 0, a row holding NaN or an infinity has
    /// scale NaN, and `ByteRows`'s largest scale and s·‖q‖₁ bound every row's.
    func testRowsQuantizeWithinHalfAStep() {
        var rng = SplitMix64(seed: 31)
        for kernel in BlockScorer.available {
            for dimension in [5, 32, 40] {
                for size: Float in [2, 1e-35] {
                    var table = table(rows: 300, dimension: dimension, size: size, &rng)
                    let stride = table.stride
                    for i in 0..<stride { table.values[7 * stride + i] = 0 }
                    table.values[8 * stride + 1] = .nan
                    table.values[9 * stride] = .infinity
                    var bytes = [UInt8](repeating: 0, count: 304 * stride), scales = [Float](repeating: 0, count: 300)
                    var l1s = scales
                    table.values.withUnsafeBufferPointer { values in
                        for row in 0..<300 {
                            scales[row] = kernel.quantize(values.baseAddress! + row * stride, stride: stride, into: &bytes, row: row,
                                                          l1: &l1s[row])
                        }
                    }
                    let context = "\(kernel) k \(dimension) size \(size)"
                    XCTAssertEqual(scales[7], 0, context)
                    XCTAssertTrue(scales[8].isNaN && scales[9].isNaN, context)
                    let mirror = ByteRows(mirroring: table)
                    for row in 0..<300 where row != 8 && row != 9 {
                        let scale = scales[row]
                        var sum: Float = 0
                        for i in 0..<stride {
                            let byte = bytes[ByteRows.index(row: row, dimension: i, stride: stride)]
                            let widened = scale * Float(Int(byte) - 128)
                            sum += abs(Float(Int(byte) - 128))
                            XCTAssertLessThanOrEqual(abs(widened - table.values[row * stride + i]), scale / 2 * (1 + 1e-4),
                                                     "\(context) row \(row) dim \(i)")
                        }
                        XCTAssertEqual(l1s[row], scale * sum, accuracy: scale * sum * 1e-6, "\(context) row \(row)")
                        XCTAssertLessThanOrEqual(mirror.scales[row], mirror.largestScale, context)
                        XCTAssertLessThanOrEqual(mirror.widened(row).reduce(0) { $0 + abs($1) }, mirror.largestL1 * (1 + 1e-6), context)
                    }
                }
            }
        }
    }

    /// On every kernel path, for tails of 0–17 and 300 rows, each byte score plus base is within `errorBound` of the float kernel's, over rows and user vectors of different sizes, and with a base that cancels large biases (where rounding, not quantization, is the error).
    func testByteScoresStayWithinTheBound() {
        var rng = SplitMix64(seed: 32)
        for kernel in BlockScorer.available {
            for dimension in [5, 32, 40] {
                for count in Array(0...17) + [300] {
                    let size: Float = [0.05, 1, 30][count % 3]
                    let table = table(rows: count, dimension: dimension, size: size, &rng), stride = table.stride
                    let bytes = ByteRows(mirroring: table)
                    let cancelling = count % 2 == 1, userSize: Float = cancelling ? 1e-7 : 3
                    let p = (0..<stride).map { $0 < dimension ? rng.nextSignedUnit() * userSize : 0 }
                    let base: Float = cancelling ? 1000 : rng.nextSignedUnit() * 3
                    let bias = (0..<count).map { _ in rng.nextSignedUnit() * 5 - (cancelling ? 1000 : 0) }
                    let query = p.withUnsafeBufferPointer { ByteQuery($0.baseAddress!, stride: stride) }
                    var scores = [Float](repeating: .nan, count: count + 1), exact = [Float](repeating: 0, count: max(1, count))
                    p.withUnsafeBufferPointer { p in bias.withUnsafeBufferPointer { bias in
                        let biasStart = bias.baseAddress ?? p.baseAddress!
                        query.values.withUnsafeBufferPointer { user in bytes.bytes.withUnsafeBufferPointer { rows in
                            bytes.scales.withUnsafeBufferPointer { scales in
                                _ = kernel.score(query, user: user.baseAddress!, byteRows: rows.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                                                 scales: scales.baseAddress ?? p.baseAddress!, stride: stride, bias: biasStart,
                                                 count: count, into: &scores)
                            } } }
                        table.values.withUnsafeBufferPointer { rows in
                            _ = BlockScorer.best.score(p.baseAddress!, rows: rows.baseAddress ?? p.baseAddress!, stride: stride,
                                                       bias: biasStart, count: count, into: &exact)
                        }
                    } }
                    XCTAssertTrue(scores[count].isNaN, "\(kernel) wrote past row \(count)")
                    for r in 0..<count {
                        let float = Double(base + exact[r])
                        let bound = query.errorBound(bytes, base: base, near: abs(float))
                        XCTAssertLessThanOrEqual(abs(Double(base + scores[r]) - float), bound,
                                                 "\(kernel) k \(dimension) row \(r) of \(count)")
                        XCTAssertLessThan(bound, 0.1 * Double(size) * query.l1 + 1e-5 * Double(stride) * (Double(abs(base)) + abs(float) + 1),
                                          "the bound is loose")
                    }
                }
            }
        }
    }
    /// Where base cancels the bias (8 against −7.99) and the user vector is tiny, byte and float scores round
    /// bias + dot to different floats now and then; `errorBound` still covers each row on every path.
    func testBoundCoversRoundingWhereBaseCancelsBias() {
        var rng = SplitMix64(seed: 33)
        var table = FactorTable(dimension: 8)
        for _ in 0..<4000 { table.values += [10 + rng.nextSignedUnit(), 2.4 + rng.nextSignedUnit() * 0.1, 0, 0, 0, 0, 0, 0] }
        let bytes = ByteRows(mirroring: table), base: Float = 8
        let bias = [Float](repeating: -7.99, count: 4000), p: [Float] = [0, 1e-7, 0, 0, 0, 0, 0, 0]
        let query = p.withUnsafeBufferPointer { ByteQuery($0.baseAddress!, stride: 8) }
        for kernel in BlockScorer.available {
            var scores = [Float](repeating: 0, count: 4000), exact = scores
            p.withUnsafeBufferPointer { p in bias.withUnsafeBufferPointer { bias in
                query.values.withUnsafeBufferPointer { user in bytes.bytes.withUnsafeBufferPointer { rows in
                    bytes.scales.withUnsafeBufferPointer { scales in
                        _ = kernel.score(query, user: user.baseAddress!, byteRows: rows.baseAddress!, scales: scales.baseAddress!,
                                         stride: 8, bias: bias.baseAddress!, count: 4000, into: &scores)
                    } } }
                table.values.withUnsafeBufferPointer { rows in
                    _ = kernel.score(p.baseAddress!, rows: rows.baseAddress!, stride: 8, bias: bias.baseAddress!, count: 4000, into: &exact)
                }
            } }
            var differing = 0
            for r in 0..<4000 {
                let float = Double(base + exact[r]), byte = Double(base + scores[r])
                if byte != float { differing += 1 }
                XCTAssertLessThanOrEqual(abs(byte - float), query.errorBound(bytes, base: base, near: abs(float)), "\(kernel) row \(r)")
            }
            XCTAssertGreaterThan(differing, 0, "\(kernel): no row rounded differently, so this test shows nothing")
        }
    }
    /// A row that was large once raises the bounds at once, and they fall back to the largest row's once it
    /// shrinks and `recountWrites` more writes have gone by.
    func testBoundsFallBackAfterALargeRowShrinks() {
        var rng = SplitMix64(seed: 34)
        var bytes = ByteRows(mirroring: table(rows: 100, dimension: 8, size: 1, &rng))
        let small = bytes.largestScale, large = [Float](repeating: 50, count: 8), tiny = [Float](repeating: 0.01, count: 8)
        large.withUnsafeBufferPointer { bytes.set(row: 5, from: $0.baseAddress!) }
        XCTAssertEqual(bytes.largestScale, 50 / 127)
        tiny.withUnsafeBufferPointer { bytes.set(row: 5, from: $0.baseAddress!) }
        XCTAssertEqual(bytes.largestScale, 50 / 127, "not lowered before a recount")
        for _ in 0..<ByteRows.recountWrites(rows: 100) { tiny.withUnsafeBufferPointer { bytes.set(row: 5, from: $0.baseAddress!) } }
        XCTAssertLessThanOrEqual(bytes.largestScale, small)
        XCTAssertGreaterThan(bytes.largestScale, 0)
    }
}
