/// A user vector as the byte scan takes it: values in −63...63 and one
/// scale, with what `errorBound` needs to bound the scan's error.
///
/// 63, not 127: the kernel's vpmaddubsw adds two products of a row byte
/// (up to 255) and a user byte into 16 signed bits, and 2 · 255 · 63 fits
/// where 2 · 255 · 127 would saturate.
struct ByteQuery {
    /// u_d ≈ scale · values[d].
    let values: [Int8]
    let scale: Float
    /// 128 · Σ values: the kernel's rows carry q + 128.
    let correction: Int32
    /// ‖u‖₁ and the largest |u_d − scale · values[d]|.
    let l1: Double
    let residual: Double

    /// The first `stride` floats of `u`, quantized (in Double, so that a
    /// vector of subnormals cannot overflow 63 / max |u|).
    init(_ u: UnsafePointer<Float>, stride: Int) {
        var largest = 0.0, l1 = 0.0
        for d in 0..<stride {
            largest = max(largest, Double(abs(u[d])))
            l1 += Double(abs(u[d]))
        }
        scale = Float(largest / 63)
        var values = [Int8](repeating: 0, count: stride), residual = 0.0, sum: Int32 = 0
        if largest > 0, largest.isFinite {
            for d in 0..<stride {
                let q = min(63, max(-63, (Double(u[d]) * (63 / largest)).rounded()))
                values[d] = Int8(q)
                sum += Int32(q)
                residual = max(residual, abs(Double(u[d]) - Double(scale) * q))
            }
        }
        self.values = values
        correction = 128 * sum
        self.l1 = l1
        self.residual = residual
    }

    /// True when every value of the vector was finite: otherwise byte
    /// scores say nothing, and `Model.scan` scores every row exactly.
    var isFinite: Bool { l1.isFinite }

    /// The most a byte score of a row of `rows` can differ from the float
    /// scan's score of that row, both with `base` added, for scores of
    /// magnitude up to `magnitude`.
    ///
    /// With row r = s_r (q + e), |e_d| ≤ ½, and u = scale · values + f:
    /// u · r − scale · s_r · (values · q) = s_r (u · e) + s_r (f · q), at most
    /// s_r ‖u‖₁ / 2 + residual · s_r ‖q‖₁, bounded over all rows by the
    /// mirror's largest s_r and s_r ‖q‖₁ (widened by 2⁻¹⁰ for the rounding
    /// of the quantization itself). On top comes float rounding in both
    /// scores: stride + 8 roundings, each of at most 2⁻²⁴ of a term no
    /// larger than twice ‖u‖₁ · 127 · s_max (the dot products), the score
    /// plus |base| (bias + dot, which `base` may cancel), or the
    /// quantization error; the code takes 4 × that for margin.
    func errorBound(_ rows: ByteRows, base: Float, near magnitude: Double) -> Double {
        let scaleBound = Double(rows.largestScale), l1Bound = Double(rows.largestL1)
        let quantization = (scaleBound * l1 / 2 + l1Bound * residual) * (1 + 0x1p-10)
        let terms = 2 * l1 * 127 * scaleBound + magnitude + Double(abs(base)) + quantization
        return quantization + Double(values.count + 8) * 0x1p-22 * terms
    }
}
