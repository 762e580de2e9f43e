import Synchronization

/// When the event loop last found ingest waiting, so that the query front
/// can stand aside while it learns.
///
/// The front's busy-poll (`QueryFront`) spins a core between queries; while
/// events pour in, that core belongs to the loop and libzmq's I/O thread.
/// With the front spinning after every `stats` poll of `streamrec bench`
/// (one a millisecond), binary ingest ran at 1.02–1.15 M against
/// 1.25–1.32 M events/s with `--busy-poll 0`, three pairs on the 2-core box.
final class IngestActivity: Sendable {
    private let lastNanoseconds = Atomic<Int64>(.min)

    /// Seconds after the loop last took ingest before the front may spin again.
    static let quiet = 0.01

    /// Notes that the loop is taking ingest at monotonic time `now`.
    func mark(now: Double) { lastNanoseconds.store(Int64(now * 1e9), ordering: .relaxed) }

    /// Whether the loop took ingest within `quiet` seconds before `now`.
    func isBusy(now: Double) -> Bool {
        Double(lastNanoseconds.load(ordering: .relaxed)) / 1e9 > now - Self.quiet
    }
}
