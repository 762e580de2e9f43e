/// The inner loops of the model: dot products and the SGD update of two rows.
///
/// Each has a scalar reference and a SIMD8 version with the same signature;
/// tests hold them to 1e-5 of each other, and the model runs the SIMD ones
/// (except `top`'s scan, which runs the C block kernel of `BlockScorer`).
/// Rows are `stride` floats, a multiple of 8 (see `FactorTable`).
public enum FactorKernel {
    public typealias Dot = (UnsafePointer<Float>, UnsafePointer<Float>, Int) -> Float
    public typealias Update = (
        _ p: UnsafeMutablePointer<Float>, _ q: UnsafeMutablePointer<Float>, _ stride: Int,
        _ error: Float, _ stepP: Float, _ stepQ: Float, _ regularization: Float
    ) -> Void

    /// p · q, one float at a time.
    public static func scalarDot(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ stride: Int) -> Float {
        var sum: Float = 0
        for i in 0..<stride { sum += p[i] * q[i] }
        return sum
    }

    /// p · q, eight floats at a time.
    ///
    /// Multiply then add, not `addingProduct`: without FMA in the baseline
    /// x86-64 target, `addingProduct` becomes eight libm `fmaf` calls.
    @inline(__always)
    public static func simdDot(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ stride: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i < stride {
            acc += load(p + i) * load(q + i)
            i += 8
        }
        return acc.sum()
    }

    /// One SGD step on both rows for prediction error `error`:
    /// p += stepP (e q − λ p), q += stepQ (e p − λ q), using the old p for q.
    /// Plain SGD passes the learning rate as both steps; AdaGrad passes each
    /// row's own adapted step.
    public static func scalarUpdate(
        _ p: UnsafeMutablePointer<Float>, _ q: UnsafeMutablePointer<Float>, _ stride: Int,
        _ error: Float, _ stepP: Float, _ stepQ: Float, _ regularization: Float
    ) {
        for i in 0..<stride {
            let pi = p[i], qi = q[i]
            p[i] = pi + stepP * (error * qi - regularization * pi)
            q[i] = qi + stepQ * (error * pi - regularization * qi)
        }
    }

    /// `scalarUpdate`, eight floats at a time.
    @inline(__always)
    public static func simdUpdate(
        _ p: UnsafeMutablePointer<Float>, _ q: UnsafeMutablePointer<Float>, _ stride: Int,
        _ error: Float, _ stepP: Float, _ stepQ: Float, _ regularization: Float
    ) {
        let e = SIMD8<Float>(repeating: error)
        let sp = SIMD8<Float>(repeating: stepP), sq = SIMD8<Float>(repeating: stepQ)
        let reg = SIMD8<Float>(repeating: regularization)
        var i = 0
        while i < stride {
            let pv = load(p + i), qv = load(q + i)
            store(pv + sp * (e * qv - reg * pv), p + i)
            store(qv + sq * (e * pv - reg * qv), q + i)
            i += 8
        }
    }

    /// Mean squared gradient of each row for the same step, for AdaGrad:
    /// (|e q − λ p|² / k, |e p − λ q|² / k), over `stride` floats (padding adds 0).
    public static func scalarGradientPower(
        _ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ stride: Int,
        _ error: Float, _ regularization: Float, _ dimension: Int
    ) -> (p: Float, q: Float) {
        var gp: Float = 0, gq: Float = 0
        for i in 0..<stride {
            let a = error * q[i] - regularization * p[i]
            let b = error * p[i] - regularization * q[i]
            gp += a * a
            gq += b * b
        }
        return (gp / Float(dimension), gq / Float(dimension))
    }

    /// `scalarGradientPower`, eight floats at a time.
    @inline(__always)
    public static func simdGradientPower(
        _ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ stride: Int,
        _ error: Float, _ regularization: Float, _ dimension: Int
    ) -> (p: Float, q: Float) {
        let e = SIMD8<Float>(repeating: error), reg = SIMD8<Float>(repeating: regularization)
        var gp = SIMD8<Float>(), gq = SIMD8<Float>()
        var i = 0
        while i < stride {
            let pv = load(p + i), qv = load(q + i)
            let a = e * qv - reg * pv, b = e * pv - reg * qv
            gp += a * a
            gq += b * b
            i += 8
        }
        return (gp.sum() / Float(dimension), gq.sum() / Float(dimension))
    }

    /// One pairwise (BPR) step that ranks item row `qi` above `qj` for user
    /// row `p`, given g = σ(−x_uij): p += step (g (qi − qj) − λ p),
    /// qi += step (g p − λ qi), qj += step (−g p − λ qj), all from the old values.
    public static func scalarPairwiseUpdate(
        _ p: UnsafeMutablePointer<Float>, _ qi: UnsafeMutablePointer<Float>, _ qj: UnsafeMutablePointer<Float>,
        _ stride: Int, _ g: Float, _ step: Float, _ regularization: Float
    ) {
        for k in 0..<stride {
            let pk = p[k], ik = qi[k], jk = qj[k]
            p[k] = pk + step * (g * (ik - jk) - regularization * pk)
            qi[k] = ik + step * (g * pk - regularization * ik)
            qj[k] = jk + step * (-g * pk - regularization * jk)
        }
    }

    /// `scalarPairwiseUpdate`, eight floats at a time.
    @inline(__always)
    public static func simdPairwiseUpdate(
        _ p: UnsafeMutablePointer<Float>, _ qi: UnsafeMutablePointer<Float>, _ qj: UnsafeMutablePointer<Float>,
        _ stride: Int, _ g: Float, _ step: Float, _ regularization: Float
    ) {
        let gv = SIMD8<Float>(repeating: g), s = SIMD8<Float>(repeating: step)
        let reg = SIMD8<Float>(repeating: regularization)
        var k = 0
        while k < stride {
            let pv = load(p + k), iv = load(qi + k), jv = load(qj + k)
            store(pv + s * (gv * (iv - jv) - reg * pv), p + k)
            store(iv + s * (gv * pv - reg * iv), qi + k)
            store(jv + s * (-gv * pv - reg * jv), qj + k)
            k += 8
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
