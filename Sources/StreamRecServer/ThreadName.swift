import CKernels

/// Names the calling thread as the kernel shows it (`top -H`, `perf`,
/// `/proc/PID/task/*/comm`), so an operator can tell the daemon's threads apart.
///
/// Foundation's `Thread.name` does not reach the kernel on Linux: every
/// thread showed as "streamrecd". The kernel keeps only the first 15 bytes
/// of a name, so the names are short: "sr-front", "sr-query-0", "sr-zap".
/// The main thread (the event loop) is left alone: its name is the
/// process's in `ps` and `pgrep`.
enum ThreadName {
    /// Names the calling thread.
    static func set(_ name: String) { _ = sr_set_thread_name(name) }
}
