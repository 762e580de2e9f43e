/// The inner loops of the model: dot products and the SGD update of two rows.
///
/// Each has a scalar reference and a SIMD8 version with the same signature;
/// tests hold them to 1e-5 of each other, and the model runs the SIMD ones.
/// Rows are `stride` floats, a multiple of 8 (see `FactorTable`).
public enum FactorKernel {
    public typealias Dot = (UnsafePointer<Float>, UnsafePointer<Float>, Int) -> Float
    public typealias Update = (
        _ p: UnsafeMutablePointer<Float>, _ q: UnsafeMutablePointer<Float>, _ stride: Int,
        _ error: Float, _ learningRate: Float, _ regularization: Float
    ) -> Void

    /// p · q, one float at a time.
    public static func scalarDot(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ stride: Int) -> Float {
        var sum: Float = 0
        for i in 0..<stride { sum += p[i] * q[i] }
        return sum
    }

    /// p · q, eight floats at a time.
    @inline(__always)
    public static func simdDot(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ stride: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i < stride {
            acc = acc.addingProduct(load(p + i), load(q + i))
            i += 8
        }
        return acc.sum()
    }

    /// One SGD step on both rows for prediction error `error` with L2 weight
    /// `regularization`: p += lr (e q − λ p), q += lr (e p − λ q), using the old p for q.
    public static func scalarUpdate(
        _ p: UnsafeMutablePointer<Float>, _ q: UnsafeMutablePointer<Float>, _ stride: Int,
        _ error: Float, _ learningRate: Float, _ regularization: Float
    ) {
        for i in 0..<stride {
            let pi = p[i], qi = q[i]
            p[i] = pi + learningRate * (error * qi - regularization * pi)
            q[i] = qi + learningRate * (error * pi - regularization * qi)
        }
    }

    /// `scalarUpdate`, eight floats at a time.
    @inline(__always)
    public static func simdUpdate(
        _ p: UnsafeMutablePointer<Float>, _ q: UnsafeMutablePointer<Float>, _ stride: Int,
        _ error: Float, _ learningRate: Float, _ regularization: Float
    ) {
        let e = SIMD8<Float>(repeating: error)
        let lr = SIMD8<Float>(repeating: learningRate)
        let reg = SIMD8<Float>(repeating: regularization)
        var i = 0
        while i < stride {
            let pv = load(p + i), qv = load(q + i)
            store(pv + lr * (e * qv - reg * pv), p + i)
            store(qv + lr * (e * pv - reg * qv), q + i)
            i += 8
        }
    }

    @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func store(_ value: SIMD8<Float>, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD8<Float>.self)
    }
}
