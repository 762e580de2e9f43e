import XCTest
@testable import StreamRecCore

/// The C half-precision conversions and the half-row block kernel, on every path this CPU has.
final class HalfConversionTests: XCTestCase {
    private func halve(_ values: [Float], on kernel: BlockScorer) -> [UInt16] {
        var halves = [UInt16](repeating: 0xdead, count: values.count)
        values.withUnsafeBufferPointer { v in halves.withUnsafeMutableBufferPointer { h in
            kernel.halve(v.baseAddress!, into: h.baseAddress!, count: v.count)
        } }
        return halves
    }

    private func widen(_ halves: [UInt16], on kernel: BlockScorer) -> [Float] {
        var floats = [Float](repeating: 0, count: halves.count)
        halves.withUnsafeBufferPointer { h in floats.withUnsafeMutableBufferPointer { f in
            kernel.widen(h.baseAddress!, into: f.baseAddress!, count: h.count)
        } }
        return floats
    }

    /// Both paths round to nearest even at the edges: signed zeros, subnormal ties, the largest half, overflow to infinity, NaN.
    func testHalvingRoundsToNearestEvenAtTheEdges() {
        let ulp = Float(1) / 1024, tiny = Float(1) / Float(1 << 24)  // 2^-24, the smallest subnormal half
        let cases: [(Float, UInt16)] = [
            (0, 0x0000), (-0.0, 0x8000), (1, 0x3c00), (-2, 0xc000), (0.1, 0x2e66),
            (1 + ulp / 2, 0x3c00), (1 + ulp / 2 + ulp / 1024, 0x3c01), (1 + 3 * ulp / 2, 0x3c02),  // ties go to even
            (tiny, 0x0001), (tiny / 2, 0x0000), (3 * tiny / 2, 0x0002), ((tiny / 2).nextUp, 0x0001),
            (-tiny, 0x8001), (.leastNonzeroMagnitude, 0x0000), (1023 * tiny, 0x03ff), (1024 * tiny, 0x0400),
            (65504, 0x7bff), (65519.996, 0x7bff), (65520, 0x7c00), (1e9, 0x7c00), (-1e9, 0xfc00),
            (.infinity, 0x7c00), (-.infinity, 0xfc00), (.greatestFiniteMagnitude, 0x7c00), (.nan, 0x7e00),
        ]
        for kernel in BlockScorer.available {
            let halves = halve(cases.map(\.0) + cases.map(\.0), on: kernel)  // long enough for the eight-wide loop too
            for (k, (value, expected)) in (cases + cases).enumerated() {
                XCTAssertEqual(halves[k], expected, "\(kernel): \(value) (entry \(k))")
            }
            let nanPayload = halve([Float(bitPattern: 0x7f80_0001), Float(bitPattern: 0xffc0_1234)], on: kernel)
            XCTAssertTrue(nanPayload.allSatisfy { $0 & 0x7c00 == 0x7c00 && $0 & 0x03ff != 0 }, "\(kernel): NaN stays NaN")
        }
    }

    /// Both paths agree with Swift's `Float16` rounding on 200,000 floats spread over every exponent a half can reach, and beyond.
    func testHalvingMatchesFloat16OverTheRange() {
        var rng = SplitMix64(seed: 16)
        let values = (0..<200_000).map { _ -> Float in
            let exponent = UInt32(127 - 30 + rng.next() % 50) << 23  // 2^-30 ..< 2^20
            return Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0x807f_ffff | exponent)
        }
        let expected = values.map { Float16($0).bitPattern }
        for kernel in BlockScorer.available { XCTAssertEqual(halve(values, on: kernel), expected, "\(kernel)") }
    }

    /// Both paths widen all 65,536 halves exactly (NaN to NaN), and widening then halving gives the half back.
    func testWideningIsExactForEveryHalf() {
        let all = (0...UInt16.max).map { $0 }
        for kernel in BlockScorer.available {
            let floats = widen(all, on: kernel)
            for h in all {
                let reference = Float(Float16(bitPattern: h))
                if reference.isNaN { XCTAssertTrue(floats[Int(h)].isNaN, "\(kernel): \(h)"); continue }
                XCTAssertEqual(floats[Int(h)].bitPattern, reference.bitPattern, "\(kernel): half \(h)")
            }
            let finite = all.filter { !Float(Float16(bitPattern: $0)).isNaN }
            XCTAssertEqual(halve(finite.map { floats[Int($0)] }, on: kernel), finite, "\(kernel): round trip")
        }
    }

    /// The half-row kernel matches bias + `FactorKernel.scalarDot` over the widened rows (strides 8–64, runs of 0–40 and 300 rows),
    /// gives the same bits as the float kernel over those widened rows, and returns the block's largest score.
    func testHalfKernelAgreesWithScalarDot() {
        var rng = SplitMix64(seed: 61)
        for kernel in BlockScorer.available {
            for stride in Swift.stride(from: 8, through: 64, by: 8) {
                for count in Array(0...40) + [300] {
                    let p = (0..<stride).map { _ in rng.nextSignedUnit() }, bias = (0..<count).map { _ in rng.nextSignedUnit() }
                    // Eight spare halves past the rows, so that even zero rows have an address.
                    let halves = halve((0..<(count * stride)).map { _ in rng.nextSignedUnit() }, on: kernel) + [UInt16](repeating: 0, count: 8)
                    let widened = widen(halves, on: kernel)
                    var scores = [Float](repeating: .nan, count: count + 1), floatScores = scores
                    var most: Float = 0, floatMost: Float = 0
                    p.withUnsafeBufferPointer { p in bias.withUnsafeBufferPointer { bias in
                        let biasBase = bias.baseAddress ?? p.baseAddress!
                        halves.withUnsafeBufferPointer { h in scores.withUnsafeMutableBufferPointer { out in
                            most = kernel.score(p.baseAddress!, halfRows: h.baseAddress!, stride: stride, bias: biasBase,
                                                count: count, into: out.baseAddress!)
                        } }
                        widened.withUnsafeBufferPointer { w in floatScores.withUnsafeMutableBufferPointer { out in
                            floatMost = kernel.score(p.baseAddress!, rows: w.baseAddress!, stride: stride,
                                                     bias: biasBase, count: count, into: out.baseAddress!)
                        } }
                    } }
                    let context = "\(kernel) stride \(stride) count \(count)"
                    XCTAssertTrue(scores[count].isNaN, "\(context): wrote past the last row")
                    XCTAssertEqual(scores.map(\.bitPattern), floatScores.map(\.bitPattern), context)
                    XCTAssertEqual(most, scores[..<count].max() ?? -.infinity, context)
                    XCTAssertEqual(most.bitPattern, floatMost.bitPattern, context)
                    for r in 0..<count {
                        let reference = p.withUnsafeBufferPointer { p in widened.withUnsafeBufferPointer { w in
                            FactorKernel.scalarDot(p.baseAddress!, w.baseAddress! + r * stride, stride) } }
                        let scale = (0..<stride).reduce(abs(bias[r])) { $0 + abs(p[$1] * widened[r * stride + $1]) }
                        XCTAssertLessThanOrEqual(abs(scores[r] - (bias[r] + reference)), 1e-5 * max(1, scale), "\(context) row \(r)")
                    }
                }
            }
        }
    }

    /// A row scored on its own gives the same bits as in an eight-row block (one summation order everywhere), which the scan's exact rescoring relies on.
    func testRowScoresDoNotDependOnTheirPlaceInABlock() {
        var rng = SplitMix64(seed: 62)
        for kernel in BlockScorer.available {
            for stride in [8, 32, 40] {
                let count = 19
                let p = (0..<stride).map { _ in rng.nextSignedUnit() }, bias = (0..<count).map { _ in rng.nextSignedUnit() }
                let rows = (0..<(count * stride)).map { _ in rng.nextSignedUnit() }
                var block = [Float](repeating: 0, count: count)
                kernel.score(p, rows: rows, stride: stride, bias: bias, count: count, into: &block)
                for r in 0..<count {
                    var single: Float = 0
                    rows.withUnsafeBufferPointer { rows in bias.withUnsafeBufferPointer { bias in
                        kernel.score(p, rows: rows.baseAddress! + r * stride, stride: stride, bias: bias.baseAddress! + r,
                                     count: 1, into: &single)
                    } }
                    XCTAssertEqual(single.bitPattern, block[r].bitPattern, "\(kernel) stride \(stride) row \(r)")
                }
            }
        }
    }
}
