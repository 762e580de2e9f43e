#if canImport(Glibc)
import Glibc
#endif

/// The two clocks the daemon reads: monotonic for intervals, wall for timestamps.
public enum Clock {
    /// Seconds on the monotonic clock, for intervals and deadlines.
    public static func monotonic() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// Milliseconds since the Unix epoch, for what is shown to people.
    public static func unixMillis() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return UInt64(t.tv_sec) * 1000 + UInt64(t.tv_nsec) / 1_000_000
    }
}
