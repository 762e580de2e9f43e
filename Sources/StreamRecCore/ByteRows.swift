import CKernels

/// An 8-bit copy of a `FactorTable`, one scale per row: what `top` scans,
/// at a quarter of the float bytes.
///
/// Row r is stored as bytes q + 128 with q = round(row / s_r) in −127...127
/// and s_r = max |row| / 127, in blocks of eight rows laid out so that the
/// C kernel (`sr_score_byte_rows_on`) multiplies four dimensions of eight
/// rows per instruction. At k = 32 that scans 0.6 ns a row against 1.7 for
/// half-precision rows (in-cache, this machine): the byte kernel does in
/// integer multiply-adds what the half kernel did in conversions.
///
/// The scan rescores its shortlist from the float rows, so answers carry
/// float scores and equal a float scan's: `ByteQuery.errorBound` bounds how
/// far a byte score can be from the float one, and `Model.scan` widens its
/// shortlist until no row outside it can reach the top `n`. Rejected: half
/// precision (the mirror before this one: twice the bytes, and its kernel
/// sat at the conversion unit's rate); bfloat16 (same bytes as halves);
/// one scale for the whole table (one large row would coarsen every other).
///
/// Derived data: never stored in a snapshot, rebuilt from the table on load.
/// The model converts a row each time it writes it (`Model.mirrorScannedRow`).
public struct ByteRows: Sendable {
    /// Floats per row of the mirrored table; bytes per row here.
    public let stride: Int
    /// Blocks of `blockRows` rows, `stride * blockRows` bytes each; rows
    /// past `rows` in the last block hold zeros (bytes of 128).
    public private(set) var bytes: [UInt8] = []
    /// s_r and s_r · Σ|q_r| per row (NaN for a row holding NaN or an infinity).
    public private(set) var scales: [Float] = []
    private var l1s: [Float] = []
    /// Bounds on every row's s_r and s_r · Σ|q_r|, for `ByteQuery.errorBound`:
    /// raised by each write that needs it, and recomputed from all rows
    /// once every `recountWrites` writes, so that a row that was large once
    /// loosens the bound for a while, not for good. NaN rows are left out.
    public private(set) var largestScale: Float = 0
    public private(set) var largestL1: Float = 0
    /// Rows holding NaN or an infinity: their byte scores are NaN while a
    /// float scan may rank them first, so `Model.scan` scores in floats then.
    public private(set) var nonFiniteRows = 0
    private var writesSinceRecount = 0

    /// Rows per block of `bytes`.
    public static let blockRows = Int(SR_BYTE_BLOCK_ROWS)

    /// An empty mirror of rows `stride` floats wide.
    init(stride: Int) {
        precondition(stride % 4 == 0 && stride <= 2048, "byte rows need a stride that is a multiple of 4, at most 2048")
        self.stride = stride
    }

    /// Every row of `table`, converted.
    init(mirroring table: FactorTable) {
        self.init(stride: table.stride)
        bytes.reserveCapacity((table.rows + Self.blockRows - 1) / Self.blockRows * Self.blockRows * stride)
        scales.reserveCapacity(table.rows)
        l1s.reserveCapacity(table.rows)
        table.values.withUnsafeBufferPointer { values in
            for row in 0..<table.rows { set(row: row, from: values.baseAddress! + row * stride) }
        }
    }

    public var rows: Int { scales.count }

    /// Sets row `row` to the conversion of `source` (`stride` floats),
    /// appending it when `row` is one past the last.
    @inline(__always)
    mutating func set(row: Int, from source: UnsafePointer<Float>) {
        precondition(row <= rows, "byte rows are appended in order")
        if row == rows {
            if row % Self.blockRows == 0 { bytes.append(contentsOf: repeatElement(128, count: Self.blockRows * stride)) }
            scales.append(0)
            l1s.append(0)
        }
        var l1: Float = 0
        let scale = bytes.withUnsafeMutableBufferPointer { BlockScorer.best.quantize(source, stride: stride, into: $0.baseAddress!, row: row, l1: &l1) }
        nonFiniteRows += (scale.isNaN ? 1 : 0) - (scales[row].isNaN ? 1 : 0)
        scales[row] = scale
        l1s[row] = l1
        if scale > largestScale { largestScale = scale }  // false for NaN
        if l1 > largestL1 { largestL1 = l1 }
        writesSinceRecount += 1
        if writesSinceRecount >= Self.recountWrites(rows: rows) { recountBounds() }
    }

    /// Writes between two recounts of the bounds: four per row, so the
    /// recount (a pass over two floats per row) costs under one float
    /// comparison per write.
    static func recountWrites(rows: Int) -> Int { 4 * max(rows, 1024) }

    /// Sets the bounds to the largest s_r and s_r · Σ|q_r| over all rows.
    private mutating func recountBounds() {
        largestScale = scales.reduce(0) { $1 > $0 ? $1 : $0 }  // skips NaN
        largestL1 = l1s.reduce(0) { $1 > $0 ? $1 : $0 }
        writesSinceRecount = 0
    }

    /// Starts fetching the cache lines of row `row`'s block that hold its bytes, for a write soon after.
    @inline(__always)
    func prefetchRow(_ row: Int32) {
        bytes.withUnsafeBufferPointer { bytes in
            let block = UnsafeRawPointer(bytes.baseAddress! + Int(row) / Self.blockRows * Self.blockRows * stride)
            for offset in Swift.stride(from: 0, to: Self.blockRows * stride, by: 64) { sr_prefetch(block + offset) }
        }
    }

    /// Where dimension `dimension` of row `row` sits in `bytes` of rows
    /// `stride` wide: its block, its quad (four dimensions of the block's
    /// rows, 32 bytes), its row's four bytes (`sr_byte_offset`, the C
    /// kernels' layout).
    static func index(row: Int, dimension: Int, stride: Int) -> Int {
        Int(sr_byte_offset(row, stride, dimension))
    }

    /// Row `row` as the floats its bytes stand for, s_r · q (for tests).
    func widened(_ row: Int) -> [Float] {
        (0..<stride).map { i in scales[row] * Float(Int(bytes[Self.index(row: row, dimension: i, stride: stride)]) - 128) }
    }
}

extension ByteRows: Equatable {
    /// Same rows, same bytes and scales; the bounds may differ (an
    /// incrementally kept mirror remembers rows that have since shrunk).
    public static func == (a: ByteRows, b: ByteRows) -> Bool {
        a.stride == b.stride && a.bytes == b.bytes && a.scales.map(\.bitPattern) == b.scales.map(\.bitPattern)
    }
}
