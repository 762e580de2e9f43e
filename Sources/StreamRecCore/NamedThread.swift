import CKernels
import Foundation

/// Starts a thread under a name the kernel shows (`top -H`, `perf`,
/// `/proc/PID/task/*/comm`), so an operator can tell the daemon's threads apart.
///
/// Foundation's `Thread.name` does not reach the kernel on Linux: every
/// thread showed as "streamrecd". The thread names itself first thing, and
/// the kernel keeps only the first 15 bytes of a name, so the names are
/// short: "sr-front", "sr-query-0", "sr-zap", "sr-scan". The main thread (the event
/// loop) is left alone: its name is the process's in `ps` and `pgrep`.
public enum NamedThread {
    /// Runs `body` on a new thread called `name`.
    public static func start(_ name: String, _ body: @escaping @Sendable () -> Void) {
        Thread {
            _ = sr_set_thread_name(name)
            body()
        }.start()
    }
}
