import CKernels

/// The scan's block kernel: scores[r] = bias[r] + p · row_r for a run of rows.
///
/// Implemented in C (`CKernels`) because the Swift build targets baseline
/// x86-64: `SIMD8` dot products there run as two SSE halves without FMA.
/// The C target carries an AVX2+FMA build, used when the CPU has both
/// (decided once), and a portable one; `FactorKernel.scalarDot` stays
/// the reference both are tested against. The same paths score the 8-bit
/// mirror (`ByteRows`).
public enum BlockScorer: Sendable, CaseIterable, CustomStringConvertible {
    /// Plain C, vectorized by the compiler for the baseline target.
    case portable
    /// AVX2 with fused multiply-add, eight rows per step.
    case avx2FMA

    /// The path this CPU runs.
    public static let best: BlockScorer = sr_score_rows_path() == SR_SCORE_AVX2_FMA ? .avx2FMA : .portable

    /// The paths this CPU can run.
    public static var available: [BlockScorer] { allCases.filter(\.isAvailable) }

    /// Rows scored per kernel call by `Model.scan`: 256 scores (1 KiB) stay
    /// in L1 while the selection reads them.
    public static let blockRows = 256

    public var isAvailable: Bool { sr_score_path_available(path) != 0 }

    public var description: String {
        switch self {
        case .portable: return "portable"
        case .avx2FMA: return "avx2+fma"
        }
    }

    private var path: sr_score_path {
        switch self {
        case .portable: return SR_SCORE_PORTABLE
        case .avx2FMA: return SR_SCORE_AVX2_FMA
        }
    }

    /// Writes `count` scores, scores[r] = bias[r] + p · rows[r * stride ..< (r + 1) * stride],
    /// and returns the largest (−∞ for none; NaN scores are ignored).
    ///
    /// The maximum costs the kernel one vector instruction per eight rows and
    /// lets a scan skip a whole block below its admission score.
    /// `stride` must be a multiple of 8 (see `FactorTable`).
    @inline(__always) @discardableResult
    public func score(_ p: UnsafePointer<Float>, rows: UnsafePointer<Float>, stride: Int,
                      bias: UnsafePointer<Float>, count: Int, into scores: UnsafeMutablePointer<Float>) -> Float {
        sr_score_rows_on(path, p, rows, stride, bias, count, scores)
    }

    /// Writes `count` cosines, cosines[r] = (q · row_r) / max(qNorm · |row_r|, leastNormal),
    /// and returns the largest (−∞ for none): `similar`'s block kernel, both
    /// dot products of a row from one read of it. `qNorm` is |q|.
    @inline(__always) @discardableResult
    public func cosines(_ q: UnsafePointer<Float>, qNorm: Float, rows: UnsafePointer<Float>, stride: Int,
                        count: Int, into cosines: UnsafeMutablePointer<Float>) -> Float {
        sr_cosines_on(path, q, qNorm, rows, stride, count, cosines)
    }

    /// `score` over the byte mirror (`ByteRows`): scores[r] = bias[r] +
    /// query.scale · scales[r] · (query's bytes · row r's), for rows from a
    /// block boundary; the largest is returned as by `score`. Within
    /// `ByteQuery.errorBound` of the float scores.
    @inline(__always) @discardableResult
    func score(_ query: ByteQuery, user: UnsafePointer<Int8>, byteRows rows: UnsafePointer<UInt8>,
               scales: UnsafePointer<Float>, stride: Int, bias: UnsafePointer<Float>, count: Int,
               into scores: UnsafeMutablePointer<Float>) -> Float {
        sr_score_byte_rows_on(path, user, query.correction, query.scale, rows, stride, scales, bias, count, scores)
    }

    /// Quantizes `stride` floats into row `row` of a byte mirror's `rows`
    /// (`sr_quantize_row_on`): returns the row's scale and sets `l1` to
    /// scale · Σ|q|.
    @inline(__always)
    func quantize(_ source: UnsafePointer<Float>, stride: Int, into rows: UnsafeMutablePointer<UInt8>, row: Int,
                  l1: inout Float) -> Float {
        sr_quantize_row_on(path, source, stride, rows, row, &l1)
    }

    /// Bit r set when base + scores[r] > threshold in float (NaN never
    /// passes), for the first `count` ≤ 64 scores.
    @inline(__always)
    public func rowsAbove(_ scores: UnsafePointer<Float>, count: Int, base: Float, threshold: Float) -> UInt64 {
        sr_rows_above_on(path, scores, count, base, threshold)
    }
}
