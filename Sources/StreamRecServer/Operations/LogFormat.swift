#if canImport(Glibc)
import Glibc
#endif
import Logging

/// How streamrecd writes its log lines to stderr.
public enum LogFormat: String, Sendable, CaseIterable {
    /// swift-log's text lines: `time level label : metadata [source] message`.
    case text
    /// One JSON object per line with the same fields, for log shippers.
    case json

    /// A handler for `label` at `level` in this format.
    public func handler(label: String, level: Logger.Level) -> any LogHandler {
        switch self {
        case .text:
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        case .json:
            var handler = JSONLogHandler(label: label, write: { fputs($0, stderr) })
            handler.logLevel = level
            return handler
        }
    }
}

/// A swift-log handler writing JSON lines:
/// `{"time":…,"level":…,"label":…,"metadata":{…},"source":…,"message":…}`.
public struct JSONLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    /// Takes each finished line, newline included (stderr in the daemon, a buffer in tests).
    let write: @Sendable (String) -> Void

    public init(label: String, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.sorted { $0.key < $1.key }.map { (key: $0.key, value: JSONValue.string("\($0.value)")) }
        let line = JSONValue.object([
            ("time", .string(Self.timestamp())), ("level", .string(event.level.rawValue)), ("label", .string(label)),
            ("metadata", .object(fields)), ("source", .string(event.source)), ("message", .string("\(event.message)")),
        ])
        write(line.text + "\n")
    }

    /// UTC time with milliseconds, ISO 8601.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S", &parts)
        let millis = String(now.tv_nsec / 1_000_000)
        return String(cString: buffer) + "." + String(repeating: "0", count: 3 - millis.count) + millis + "Z"
    }
}
