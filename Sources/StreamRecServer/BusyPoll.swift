#if canImport(Glibc)
import Glibc
#endif
import ZeroMQ

extension Poller {
    /// Waits for input like `poll(timeoutMilliseconds: -1, …)`, but polls
    /// without sleeping until `spin` seconds after `lastActivity` first.
    ///
    /// Why spin: in a VM, a thread that sleeps between queries hands its
    /// vCPU back to the host, and the next query pays for the wake-up (an
    /// interrupt into an idle guest) and then runs on caches that other
    /// work has emptied. On the 2-vCPU dev box a top-10 over 10 k items took
    /// 164–196 µs a round trip with the query front sleeping and 112–128 µs
    /// with it spinning 200 µs (docs/BENCHMARKS.md). The spin only
    /// follows activity, so an idle daemon still sleeps, and it yields the
    /// CPU between looks, so a runnable thread on the same core goes first.
    /// Its cost is CPU: up to `spin` seconds of a core per query when
    /// queries come one at a time, none when they arrive back to back.
    public mutating func poll(spinning spin: Double, since lastActivity: Double, enabled: [Bool]) throws -> [Bool] {
        while spin > 0, Clock.monotonic() - lastActivity < spin {
            let ready = try poll(timeoutMilliseconds: 0, enabled: enabled)
            if ready.contains(true) { return ready }
            sched_yield()
        }
        return try poll(timeoutMilliseconds: -1, enabled: enabled)
    }
}
