#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on stderr, drawn only when stderr is a terminal.
struct ProgressBar {
    let total: Int
    let enabled = isatty(2) != 0
    private var lastDraw = 0.0

    init(total: Int) { self.total = total }

    mutating func update(done: Int, events: Int, elapsed: Double) {
        guard enabled, elapsed - lastDraw > 0.1 || (total > 0 && done >= total) else { return }
        lastDraw = elapsed
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 0
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let rate = Int(Double(events) / max(elapsed, 1e-9))
        fputs("\r[\(bar)] \(Int(fraction * 100))%  \(events) events  \(rate)/s ", stderr)
    }

    func finish() {
        if enabled { fputs("\n", stderr) }
    }
}

/// The size of the file at `path` in bytes, 0 when it cannot be read (a
/// progress bar over it then stays empty).
func fileSize(_ path: String) -> Int {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : 0
}
