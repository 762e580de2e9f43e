import Histogram
import StreamRecCore
import StreamRecServer

/// The catalogue sweep: top-10 compute time inside the model (no sockets)
/// over growing catalogues, beside this core's multiply-add rate.
enum BenchTopScan {
    /// For each catalogue size, learns `events` synthetic events over that
    /// many items (so every item has a row) and times `top` for many users.
    static func run(catalogues: [UInt64], users: UInt64, queries: Int, settings: ModelSettings) {
        print("single-core multiply-add rate (SIMD8 dot products, k=\(settings.factors)): \(fixed(fmaRate(settings.factors) / 1e9, 2)) G/s")
        for kernel in BlockScorer.available {
            print("single-core multiply-add rate (\(kernel) block kernel, k=\(settings.factors)): \(fixed(blockRate(settings.factors, kernel) / 1e9, 2)) G/s")
        }
        let rowBytes = FactorTable(dimension: settings.factors).stride + MemoryLayout<Float>.size
        print("scan kernel: \(BlockScorer.best); bytes scanned per query = items x \(rowBytes) (byte rows and their scales) + a shortlist rescored from float rows")
        print("items        events    top-10 p50 (ms)   p99 (ms)   ns per item (p50)   GB/s of rows (p50)   target p99 at 1 M items: <= 15 ms")
        for items in catalogues {
            var model = Model(settings: settings)
            let events = Int(max(items * 2, users * 4))
            for event in SyntheticEvents(count: events, users: users, items: items) { model.observe(event) }
            var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
            var rng = SplitMix64(seed: 5)
            var sink = 0
            for _ in 0..<queries {
                let user = ExternalID.number(rng.next() % users)
                let start = Clock.monotonic()
                sink &+= model.top(user: user, n: 10).items.count
                histogram.record(UInt64((Clock.monotonic() - start) * 1e9))
            }
            let p50 = Double(histogram.valueAtPercentile(50)) / 1e6, p99 = Double(histogram.valueAtPercentile(99)) / 1e6
            print("\(pad(items, 13))\(pad(UInt64(events), 10))\(pad(fixed(p50, 3), 18))\(pad(fixed(p99, 3), 11))\(pad(fixed(p50 * 1e6 / Double(items), 2), 20))\(fixed(Double(items * UInt64(rowBytes)) / (p50 * 1e6), 2))\(sink < 0 ? "!" : "")")
        }
    }

    /// Multiply-adds per second of the SIMD dot kernel over an in-cache row set.
    static func fmaRate(_ k: Int) -> Double {
        let table = FactorTable(dimension: k)
        let stride = table.stride, rows = 1024
        let values = [Float](repeating: 0.5, count: rows * stride)
        let p = [Float](repeating: 0.25, count: stride)
        var total: Float = 0
        let rounds = 4000
        let start = Clock.monotonic()
        values.withUnsafeBufferPointer { v in
            p.withUnsafeBufferPointer { p in
                for _ in 0..<rounds {
                    for r in 0..<rows { total += FactorKernel.simdDot(p.baseAddress!, v.baseAddress! + r * stride, stride) }
                }
            }
        }
        let seconds = Clock.monotonic() - start
        return total.isNaN ? 0 : Double(rounds * rows * stride) / seconds
    }

    /// Multiply-adds per second of the C block kernel (`Model.scan`'s) over the same in-cache rows.
    static func blockRate(_ k: Int, _ kernel: BlockScorer) -> Double {
        let stride = FactorTable(dimension: k).stride, rows = 1024
        let values = [Float](repeating: 0.5, count: rows * stride)
        let p = [Float](repeating: 0.25, count: stride), bias = [Float](repeating: 0, count: rows)
        var scores = [Float](repeating: 0, count: rows)
        var total: Float = 0
        let rounds = 4000
        let start = Clock.monotonic()
        for _ in 0..<rounds {
            total += scores.withUnsafeMutableBufferPointer { out in
                kernel.score(p, rows: values, stride: stride, bias: bias, count: rows, into: out.baseAddress!)
            }
        }
        let seconds = Clock.monotonic() - start
        return total.isNaN ? 0 : Double(rounds * rows * stride) / seconds
    }

    private static func pad<T>(_ value: T, _ width: Int) -> String {
        let text = "\(value)"
        return text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
