import XCTest
@testable import StreamRecCore

/// The SIMD kernels the model runs agree with the scalar reference kernels.
final class KernelTests: XCTestCase {
    private func randomRow(_ count: Int, _ rng: inout SplitMix64) -> [Float] {
        (0..<count).map { _ in rng.nextSignedUnit() }
    }

    /// simdDot equals scalarDot to 1e-5 on random rows of every stride from 8 to 64.
    func testDotAgrees() {
        var rng = SplitMix64(seed: 1234)
        for stride in Swift.stride(from: 8, through: 64, by: 8) {
            for _ in 0..<50 {
                let p = randomRow(stride, &rng), q = randomRow(stride, &rng)
                let scalar = p.withUnsafeBufferPointer { pb in q.withUnsafeBufferPointer { qb in
                    FactorKernel.scalarDot(pb.baseAddress!, qb.baseAddress!, stride) } }
                let simd = p.withUnsafeBufferPointer { pb in q.withUnsafeBufferPointer { qb in
                    FactorKernel.simdDot(pb.baseAddress!, qb.baseAddress!, stride) } }
                XCTAssertEqual(simd, scalar, accuracy: 1e-5, "stride \(stride)")
                // An independent Double reference guards against both kernels being wrong the same way.
                let reference = zip(p, q).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                XCTAssertEqual(Double(simd), reference, accuracy: 1e-5, "stride \(stride)")
            }
        }
    }

    /// simdUpdate leaves both rows within 1e-5 of scalarUpdate on random rows, errors and rates for strides 8 to 64.
    func testUpdateAgrees() {
        var rng = SplitMix64(seed: 99)
        for stride in Swift.stride(from: 8, through: 64, by: 8) {
            for _ in 0..<50 {
                let p = randomRow(stride, &rng), q = randomRow(stride, &rng)
                let error = rng.nextSignedUnit() * 4
                let lr = abs(rng.nextSignedUnit()) * 0.2 + 0.001
                let lrQ = abs(rng.nextSignedUnit()) * 0.2 + 0.001  // AdaGrad gives each row its own step
                let reg = abs(rng.nextSignedUnit()) * 0.1
                var (ps, qs) = (p, q), (pv, qv) = (p, q)
                ps.withUnsafeMutableBufferPointer { pb in qs.withUnsafeMutableBufferPointer { qb in
                    FactorKernel.scalarUpdate(pb.baseAddress!, qb.baseAddress!, stride, error, lr, lrQ, reg) } }
                pv.withUnsafeMutableBufferPointer { pb in qv.withUnsafeMutableBufferPointer { qb in
                    FactorKernel.simdUpdate(pb.baseAddress!, qb.baseAddress!, stride, error, lr, lrQ, reg) } }
                for i in 0..<stride {
                    XCTAssertEqual(pv[i], ps[i], accuracy: 1e-5, "p[\(i)] at stride \(stride)")
                    XCTAssertEqual(qv[i], qs[i], accuracy: 1e-5, "q[\(i)] at stride \(stride)")
                    // The update uses the old p for q: check against the rule directly.
                    XCTAssertEqual(qs[i], q[i] + lrQ * (error * p[i] - reg * q[i]), accuracy: 1e-6)
                    XCTAssertEqual(ps[i], p[i] + lr * (error * q[i] - reg * p[i]), accuracy: 1e-6)
                }
            }
        }
    }

    /// simdGradientPower equals scalarGradientPower to 1e-5 (relative) and matches the rule |e q − λ p|² / k.
    func testGradientPowerAgrees() {
        var rng = SplitMix64(seed: 17)
        for stride in Swift.stride(from: 8, through: 64, by: 8) {
            for _ in 0..<50 {
                let dimension = stride - Int(rng.next() % 8)
                var p = randomRow(stride, &rng), q = randomRow(stride, &rng)
                for k in dimension..<stride { p[k] = 0; q[k] = 0 }  // padding is zero, as in a FactorTable
                let error = rng.nextSignedUnit() * 3, reg = abs(rng.nextSignedUnit()) * 0.1
                let scalar = p.withUnsafeBufferPointer { pb in q.withUnsafeBufferPointer { qb in
                    FactorKernel.scalarGradientPower(pb.baseAddress!, qb.baseAddress!, stride, error, reg, dimension) } }
                let simd = p.withUnsafeBufferPointer { pb in q.withUnsafeBufferPointer { qb in
                    FactorKernel.simdGradientPower(pb.baseAddress!, qb.baseAddress!, stride, error, reg, dimension) } }
                let expectedP = (0..<stride).reduce(Float(0)) { s, k in let g = error * q[k] - reg * p[k]; return s + g * g } / Float(dimension)
                let expectedQ = (0..<stride).reduce(Float(0)) { s, k in let g = error * p[k] - reg * q[k]; return s + g * g } / Float(dimension)
                XCTAssertEqual(simd.p, scalar.p, accuracy: 1e-5 * max(1, scalar.p), "stride \(stride)")
                XCTAssertEqual(simd.q, scalar.q, accuracy: 1e-5 * max(1, scalar.q), "stride \(stride)")
                XCTAssertEqual(scalar.p, expectedP, accuracy: 1e-5 * max(1, expectedP))
                XCTAssertEqual(scalar.q, expectedQ, accuracy: 1e-5 * max(1, expectedQ))
            }
        }
    }

    /// simdPairwiseUpdate leaves all three rows within 1e-5 of scalarPairwiseUpdate, and both follow the BPR rule from the old values.
    func testPairwiseUpdateAgrees() {
        var rng = SplitMix64(seed: 23)
        for stride in Swift.stride(from: 8, through: 64, by: 8) {
            for _ in 0..<30 {
                let p = randomRow(stride, &rng), qi = randomRow(stride, &rng), qj = randomRow(stride, &rng)
                let g = abs(rng.nextSignedUnit()), step = abs(rng.nextSignedUnit()) * 0.2, reg = abs(rng.nextSignedUnit()) * 0.1
                var (ps, isc, js) = (p, qi, qj), (pv, iv, jv) = (p, qi, qj)
                ps.withUnsafeMutableBufferPointer { a in isc.withUnsafeMutableBufferPointer { b in js.withUnsafeMutableBufferPointer { c in
                    FactorKernel.scalarPairwiseUpdate(a.baseAddress!, b.baseAddress!, c.baseAddress!, stride, g, step, reg) } } }
                pv.withUnsafeMutableBufferPointer { a in iv.withUnsafeMutableBufferPointer { b in jv.withUnsafeMutableBufferPointer { c in
                    FactorKernel.simdPairwiseUpdate(a.baseAddress!, b.baseAddress!, c.baseAddress!, stride, g, step, reg) } } }
                for k in 0..<stride {
                    XCTAssertEqual(pv[k], ps[k], accuracy: 1e-5)
                    XCTAssertEqual(iv[k], isc[k], accuracy: 1e-5)
                    XCTAssertEqual(jv[k], js[k], accuracy: 1e-5)
                    XCTAssertEqual(ps[k], p[k] + step * (g * (qi[k] - qj[k]) - reg * p[k]), accuracy: 1e-6)
                    XCTAssertEqual(isc[k], qi[k] + step * (g * p[k] - reg * qi[k]), accuracy: 1e-6)
                    XCTAssertEqual(js[k], qj[k] + step * (-g * p[k] - reg * qj[k]), accuracy: 1e-6)
                }
            }
        }
    }

    /// The SIMD update reads and writes unaligned rows correctly (rows start at any float offset in the table).
    func testUnalignedRows() {
        var rng = SplitMix64(seed: 5)
        var storage = randomRow(1 + 16 + 3 + 16, &rng)
        let original = storage
        storage.withUnsafeMutableBufferPointer { buffer in
            FactorKernel.simdUpdate(buffer.baseAddress! + 1, buffer.baseAddress! + 20, 16, 0.5, 0.1, 0.07, 0.01)
        }
        var expected = original
        expected.withUnsafeMutableBufferPointer { buffer in
            FactorKernel.scalarUpdate(buffer.baseAddress! + 1, buffer.baseAddress! + 20, 16, 0.5, 0.1, 0.07, 0.01)
        }
        for i in storage.indices { XCTAssertEqual(storage[i], expected[i], accuracy: 1e-6, "index \(i)") }
        XCTAssertEqual(storage[0], original[0], "bytes before the row are not touched")
        XCTAssertEqual(Array(storage[17..<20]), Array(original[17..<20]), "bytes between the rows are not touched")
    }
}
