#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// SIGINT/SIGTERM handling for the daemon: the first signal sets a flag that
/// the event loop checks (and interrupts `zmq_poll`, so it checks at once);
/// a second one exits immediately, for an operator who will not wait.
public enum SignalTrap {
    static let received = Atomic<Int>(0)

    /// Installs the handlers. Call once, before the loop runs.
    public static func install() {
        _ = received.load(ordering: .relaxed)  // initialize the global before any handler can run
        for signal in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in
                if SignalTrap.received.add(1, ordering: .sequentiallyConsistent).oldValue > 0 {
                    _exit(130)
                }
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
