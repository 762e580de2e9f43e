#if canImport(Glibc)
import Glibc
#endif
import StreamRecServer

/// The bare-libzmq figures of this machine, measured by the `zmq-floor` tool
/// (`../shared/tools/zmq-floor.c`) in the same run as the bench, so the
/// bench's own figures can be quoted as ratios that survive machine drift.
struct ZMQFloor {
    /// PUSH→PULL messages per second over tcp loopback.
    var messagesPerSecond: Double
    /// REQ→REP round trip p50, in microseconds.
    var latencyP50: Double

    /// Runs `path thr` and `path lat` and reads their one-line reports.
    static func measure(_ path: String) throws -> ZMQFloor {
        let thr = try run("\(path) thr")
        let lat = try run("\(path) lat")
        guard let rate = number(before: " messages/s", in: thr), let p50 = number(after: "p50 ", in: lat) else {
            throw DaemonError("cannot read zmq-floor output: \(thr) / \(lat)")
        }
        return ZMQFloor(messagesPerSecond: rate, latencyP50: p50)
    }

    /// Starts `path echo endpoint`, a bare libzmq REP echo server, and returns
    /// its pid: timing our own client against it splits a round trip into
    /// what the client and libzmq cost and what the daemon adds.
    static func startEcho(_ path: String, endpoint: String) throws -> pid_t {
        var pid = pid_t()
        var argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), strdup("echo"), strdup(endpoint), nil]
        defer { argv.forEach { free($0) } }
        guard posix_spawn(&pid, path, nil, nil, &argv, environ) == 0 else { throw DaemonError("cannot start \(path) echo") }
        return pid
    }

    /// The command's standard output.
    private static func run(_ command: String) throws -> String {
        guard let pipe = popen(command, "r") else { throw DaemonError("cannot run \(command)") }
        var output = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), pipe) != nil { output += String(cString: buffer) }
        guard pclose(pipe) == 0 else { throw DaemonError("\(command) failed: \(output)") }
        return output
    }

    private static func number(before marker: String, in text: String) -> Double? {
        guard let end = text.range(of: marker)?.lowerBound else { return nil }
        return Double(text[..<end].split(separator: " ").last ?? "")
    }

    private static func number(after marker: String, in text: String) -> Double? {
        guard let start = text.range(of: marker)?.upperBound else { return nil }
        return Double(text[start...].split(separator: " ").first ?? "")
    }
}
