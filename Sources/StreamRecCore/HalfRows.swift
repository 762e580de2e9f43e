import CKernels

/// A half-precision (IEEE binary16) copy of a `FactorTable`, same rows, same
/// padded stride: what `top` scans, at half the bytes.
///
/// At k = 32 a row is 64 bytes, one cache line, instead of two, and the scan
/// of a large catalogue runs at memory speed, so halving the bytes nearly
/// halves its time. The scan then rescores its few best candidates from the
/// float rows, so answers carry the same scores as before (see `Model.scan`).
/// Rejected: bfloat16 (3 fewer mantissa bits, 8 times the rounding error, for
/// a range the embeddings never use); int8 rows (a quarter of the bytes, but
/// each row needs its own scale, kept in step with every update, and the
/// error is larger still); halves without rescoring (the scores in replies
/// would change, and near-ties could reorder).
///
/// Derived data: never stored in a snapshot, rebuilt from the table on load.
/// The model converts a row each time it writes it (`Model.mirrorScannedRow`).
public struct HalfRows: Sendable, Equatable {
    /// Halves per row: the mirrored table's stride.
    public let stride: Int
    /// All rows back to back, `rows * stride` binary16 bit patterns.
    public private(set) var bits: [UInt16] = []

    /// An empty mirror of rows `stride` wide.
    init(stride: Int) { self.stride = stride }

    /// Every row of `table`, converted.
    init(mirroring table: FactorTable) {
        stride = table.stride
        bits = [UInt16](repeating: 0, count: table.values.count)
        table.values.withUnsafeBufferPointer { source in
            bits.withUnsafeMutableBufferPointer { halves in
                guard let from = source.baseAddress, let to = halves.baseAddress else { return }
                BlockScorer.best.halve(from, into: to, count: source.count)
            }
        }
    }

    public var rows: Int { bits.count / stride }

    /// Sets row `row` to the conversion of `source` (`stride` floats),
    /// appending it when `row` is one past the last.
    @inline(__always)
    mutating func set(row: Int, from source: UnsafePointer<Float>) {
        if row == rows { bits.append(contentsOf: repeatElement(0, count: stride)) }
        bits.withUnsafeMutableBufferPointer { halves in
            BlockScorer.best.halve(source, into: halves.baseAddress! + row * stride, count: stride)
        }
    }

    /// Starts fetching row `row`'s cache lines, for a write soon after.
    @inline(__always)
    func prefetchRow(_ row: Int32) {
        bits.withUnsafeBufferPointer { bits in
            let start = UnsafeRawPointer(bits.baseAddress! + Int(row) * stride)
            for offset in Swift.stride(from: 0, to: stride * MemoryLayout<UInt16>.stride, by: 64) { sr_prefetch(start + offset) }
        }
    }
}
