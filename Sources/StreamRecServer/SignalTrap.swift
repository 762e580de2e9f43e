#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// SIGINT/SIGTERM handling for the daemon: the first signal sets a flag that
/// the event loop checks (and interrupts `zmq_poll`, so it checks at once);
/// a second one exits immediately (status 128 + the signal, with a line on
/// stderr), for an operator who will not wait.
///
/// A second signal within `sameRequestNanoseconds` of the first counts as
/// the same request: coreutils `timeout` signals the process and then its
/// process group, so the daemon sees two SIGTERMs a few microseconds apart,
/// and used to exit at once without its final snapshot.
public enum SignalTrap {
    static let received = Atomic<Int>(0)
    /// CLOCK_MONOTONIC nanoseconds of the first signal.
    static let firstAt = Atomic<Int>(0)
    static let sameRequestNanoseconds = 100_000_000

    /// Installs the handlers. Call once, before the loop runs.
    public static func install() {
        _ = received.load(ordering: .relaxed)  // initialize the globals before any handler can run
        _ = firstAt.load(ordering: .relaxed)
        for signal in [SIGINT, SIGTERM] {
            var action = sigaction()
            // Only async-signal-safe calls in here: clock_gettime, write, _exit.
            action.__sigaction_handler.sa_handler = { signal in
                var now = timespec()
                clock_gettime(CLOCK_MONOTONIC, &now)
                let nanoseconds = now.tv_sec * 1_000_000_000 + now.tv_nsec
                if SignalTrap.received.add(1, ordering: .sequentiallyConsistent).oldValue == 0 {
                    SignalTrap.firstAt.store(nanoseconds, ordering: .sequentiallyConsistent)
                    return
                }
                let first = SignalTrap.firstAt.load(ordering: .sequentiallyConsistent)
                if first == 0 || nanoseconds - first < SignalTrap.sameRequestNanoseconds { return }
                let line: StaticString = "streamrecd: second stop signal: exiting now, without the final snapshot\n"
                _ = write(2, line.utf8Start, line.utf8CodeUnitCount)
                _exit(128 + signal)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0  // no SA_RESTART: blocking calls return EINTR so the loop sees the signal
            sigaction(signal, &action, nil)
        }
        // A file-size limit (ulimit -f) must fail writes with EFBIG, which the
        // log and snapshot writers report and retry, not kill the daemon.
        Glibc.signal(SIGXFSZ, SIG_IGN)
    }

    /// True once a stop signal arrived.
    public static var stopRequested: Bool { received.load(ordering: .relaxed) > 0 }
}
