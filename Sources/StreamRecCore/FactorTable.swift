import CKernels
/// One contiguous Float table of embedding rows, one row per user or item.
///
/// Rows are padded to a multiple of the SIMD width (8 floats) so the kernel
/// never needs a scalar tail; the padding is always zero, so it adds nothing
/// to a dot product and the SGD update keeps it zero.
public struct FactorTable: Sendable, Equatable {
    /// The SIMD width rows are padded to.
    public static let lanes = 8

    /// Factors per row, as configured.
    public let dimension: Int
    /// Floats per row in storage: `dimension` rounded up to `lanes`.
    public let stride: Int
    /// All rows back to back, `rows * stride` floats.
    public internal(set) var values: [Float] = []

    public init(dimension: Int) {
        self.dimension = dimension
        self.stride = (dimension + Self.lanes - 1) / Self.lanes * Self.lanes
    }

    public var rows: Int { values.count / stride }

    /// Appends a row drawn uniformly from [-scale, scale), zero padded.
    mutating func appendRow(scale: Float, using rng: inout SplitMix64) {
        for _ in 0..<dimension { values.append(rng.nextSignedUnit() * scale) }
        for _ in dimension..<stride { values.append(0) }
    }

    /// Starts fetching row `row`'s cache lines.
    @inline(__always)
    func prefetchRow(_ row: Int32) {
        values.withUnsafeBufferPointer { values in
            let start = UnsafeRawPointer(values.baseAddress! + Int(row) * stride)
            for offset in Swift.stride(from: 0, to: stride * MemoryLayout<Float>.stride, by: 64) { sr_prefetch(start + offset) }
        }
    }

    /// Row `row` as an array of its `dimension` factors (for tests and inspection).
    public func row(_ row: Int) -> [Float] {
        Array(values[row * stride ..< row * stride + dimension])
    }
}
