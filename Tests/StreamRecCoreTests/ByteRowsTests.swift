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

    /// Every row widens back to within half its scale of each float, a zero row has scale 0, a row holding NaN or an infinity has scale NaN, and the mirror's largest scale and s·‖q‖₁ bound every row's.
    func testRowsQuantizeWithinHalfAStep() {
        var rng = SplitMix64(seed: 31)
        for dimension in [5, 32, 40] {
            var table = table(rows: 300, dimension: dimension, size: 2, &rng)
            let stride = table.stride
            for i in 0..<stride { table.values[7 * stride + i] = 0 }
            table.values[8 * stride + 1] = .nan
            table.values[9 * stride] = .infinity
            let bytes = ByteRows(mirroring: table)
            XCTAssertEqual(bytes.rows, 300)
            XCTAssertEqual(bytes.scales[7], 0)
            XCTAssertTrue(bytes.scales[8].isNaN && bytes.scales[9].isNaN)
            for row in 0..<300 where row != 8 && row != 9 {
                let widened = bytes.widened(row), scale = bytes.scales[row]
                XCTAssertLessThanOrEqual(scale, bytes.largestScale)
                XCTAssertLessThanOrEqual(widened.reduce(0) { $0 + abs($1) }, bytes.largestL1 * (1 + 1e-6))
                for i in 0..<stride {
                    XCTAssertLessThanOrEqual(abs(widened[i] - table.values[row * stride + i]), scale / 2 * (1 + 1e-5),
                                             "k \(dimension) row \(row) dim \(i)")
                }
            }
        }
    }

    /// On every kernel path, for tails of 0–17 and 300 rows, each byte score is within `errorBound` of bias + the float kernel's score, over rows and user vectors of different sizes.
    func testByteScoresStayWithinTheBound() {
        var rng = SplitMix64(seed: 32)
        for kernel in BlockScorer.available {
            for dimension in [5, 32, 40] {
                for count in Array(0...17) + [300] {
                    let size: Float = [0.05, 1, 30][count % 3]
                    let table = table(rows: count, dimension: dimension, size: size, &rng), stride = table.stride
                    let bytes = ByteRows(mirroring: table)
                    let p = (0..<stride).map { $0 < dimension ? rng.nextSignedUnit() * 3 : 0 }
                    let bias = (0..<count).map { _ in rng.nextSignedUnit() * 5 }
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
                        let bound = query.errorBound(bytes, near: Double(abs(exact[r])))
                        XCTAssertLessThanOrEqual(abs(Double(scores[r]) - Double(exact[r])), bound,
                                                 "\(kernel) k \(dimension) row \(r) of \(count)")
                        XCTAssertLessThan(bound, 0.1 * Double(size) * query.l1, "the bound is loose")
                    }
                }
            }
        }
    }
}
