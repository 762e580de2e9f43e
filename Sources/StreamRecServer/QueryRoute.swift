/// Where a query is answered, in the order a request travels: the front
/// thread that receives it from the public endpoint (`idleFront` when no
/// other query waits there or runs at a worker and one client only was
/// heard from lately, `SoloClientWatch`), a query worker, the event
/// loop. Each stop answers what `QueryRoute` allows there or earlier and
/// passes the rest on.
public enum QueryStop: Int, Comparable, Sendable {
    case front, idleFront, worker, loop

    public static func < (a: QueryStop, b: QueryStop) -> Bool { a.rawValue < b.rawValue }
}

/// The one rule for which thread answers a query (see `QueryWorkers`).
///
/// The front thread answers a query when answering costs no more than
/// handing it to a worker would: the hand-off is two thread wakeups,
/// ~100 µs on a busy 2-core box, so the front takes queries that cost at
/// most ~50 µs, and, while idle, tops of ~100–200 µs (`idleFrontTopScan`).
/// Ops that change the state or must be ordered with ingest go to the
/// loop, through a worker (REP answers strictly in turn).
public enum QueryRoute {
    /// Longer requests (a `top` with long `exclude` or `candidates` lists, a
    /// large anonymous user) go to a worker unparsed: parsing and looking up
    /// their IDs is work the front would do for everyone waiting behind it.
    /// A plain `top` or `predict` is under 100 bytes.
    public static let frontRequestBytes = 1024

    // The scan limits below keep an inline answer under ~50 µs. Measured
    // in-process on the 2-core dev box (release, k = 32, p50 of 300 queries,
    // `streamrec bench --top-scan` with similar and popular timed alongside):
    // top-10 33 µs at 10,000 items (61 µs in the daemon-side figures of
    // docs/BENCHMARKS.md); similar 30 µs at 2,048 items and 133 µs at 10,000
    // (~13 ns per item); popular 7.8 µs at 10,000 items and 89 µs at 65,536.

    /// Catalogue size × factors the front scans at most for `top`: 10,240
    /// items at k = 32, half that at k = 64.
    public static let frontTopScan = 10_240 * 32
    /// The same while the front is idle (`QueryStop.idleFront`): 131,072
    /// items at k = 32, ~100 µs of scan on two cores (~200 µs on one with
    /// `--query-threads 1`). Nobody waits behind the front then, and
    /// answering in place saves the two wakeups of a worker hand-off: the
    /// median top-10 round trip over 100 k items fell from 243 to 195 µs
    /// (docs/BENCHMARKS.md, 2026-12-03). A request that arrives meanwhile
    /// waits for the scan; with several clients the front hands them on.
    public static let idleFrontTopScan = 131_072 * 32
    /// The same for `similar`: 3,072 items at k = 32, measured when it took
    /// three Swift dot products per item; its C cosine kernel (2026-12-03)
    /// is 2–3 × faster, so this limit is conservative until measured again.
    public static let frontSimilarScan = 3_072 * 32
    /// Catalogue size `popular` (one popularity count per item) scans at most.
    public static let frontPopularScan = 32_768

    /// The first stop that may look at a request of `bytes` bytes.
    public static func stop(requestBytes bytes: Int) -> QueryStop {
        bytes <= frontRequestBytes ? .front : .worker
    }

    /// The first stop that may answer `op` over a catalogue of `items` items
    /// with `factors` factors. Unknown ops get their error reply at the front.
    public static func stop(op: String, items: Int, factors: Int) -> QueryStop {
        switch op {
        case "observe", "snapshot": return .loop
        case "top": return items * factors <= frontTopScan ? .front : items * factors <= idleFrontTopScan ? .idleFront : .worker
        case "similar": return items * factors <= frontSimilarScan ? .front : .worker
        case "popular": return items <= frontPopularScan ? .front : .worker
        default: return .front
        }
    }
}
