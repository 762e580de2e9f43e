import CZlib

/// Reads rating files: one event per line, `user item rating [timestamp]`,
/// separated by tabs, commas or spaces, plain or gzip-compressed (zlib reads
/// both the same way). A first line of three or four fields whose rating is
/// not a number is taken as a header and skipped; blank lines and lines
/// starting with `#` are skipped. A gzip stream cut short is an error, not a
/// shorter file.
public final class RatingFile {
    public let path: String
    private let file: gzFile
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var pending: [UInt8] = []
    public private(set) var lineNumber = 0

    public init(path: String) throws {
        guard let file = gzopen(path, "rb") else { throw FileError("open", path) }
        gzbuffer(file, 1 << 17)
        self.path = path
        self.file = file
    }

    deinit { gzclose(file) }

    /// How far into the file (compressed bytes) reading has come, for progress bars.
    public var compressedOffset: Int { Int(gzoffset(file)) }

    /// Calls `body` with each event in order. Throws on an unreadable line,
    /// naming the file and line.
    public func forEach(_ body: (RatingEvent) throws -> Void) throws {
        while true {
            let n = buffer.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if n < 0 { throw FileError("read (gzip)", path, code: 5) }
            if n == 0 {
                var code: Int32 = Z_OK
                let message = String(cString: gzerror(file, &code))
                // zlib reports a stream cut short only as an error after the data it could inflate.
                if code != Z_OK { throw FormatError.invalid("\(path): truncated or damaged gzip data (\(message))") }
                break
            }
            var start = 0
            for k in 0..<Int(n) where buffer[k] == UInt8(ascii: "\n") {
                if pending.isEmpty {
                    try buffer.withUnsafeBytes { try parse(UnsafeRawBufferPointer(rebasing: $0[start..<k]), body) }
                } else {
                    pending.append(contentsOf: buffer[start..<k])
                    try pending.withUnsafeBytes { try parse($0, body) }
                    pending.removeAll(keepingCapacity: true)
                }
                start = k + 1
            }
            pending.append(contentsOf: buffer[start..<Int(n)])
        }
        if !pending.isEmpty {
            try pending.withUnsafeBytes { try parse($0, body) }
            pending.removeAll()
        }
    }

    private func parse(_ line: UnsafeRawBufferPointer, _ body: (RatingEvent) throws -> Void) throws {
        lineNumber += 1
        var fields: [UnsafeRawBufferPointer] = []
        fields.reserveCapacity(4)
        var start = 0
        for k in 0...line.count {
            let byte: UInt8 = k < line.count ? line[k] : UInt8(ascii: "\t")
            if byte == UInt8(ascii: "\t") || byte == UInt8(ascii: ",") || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\r") {
                if k > start { fields.append(UnsafeRawBufferPointer(rebasing: line[start..<k])) }
                start = k + 1
            }
        }
        if fields.isEmpty || fields[0].first == UInt8(ascii: "#") { return }
        guard fields.count == 3 || fields.count == 4, let rating = Float(ascii: fields[2]), rating.isFinite else {
            if lineNumber == 1, fields.count == 3 || fields.count == 4 { return }  // a header line
            throw FormatError.invalid("\(path):\(lineNumber): expected `user item rating [timestamp]`")
        }
        var timestamp: Int64?
        if fields.count == 4 {
            guard let ts = Int64(ascii: fields[3]) else {
                throw FormatError.invalid("\(path):\(lineNumber): timestamp is not an integer")
            }
            timestamp = ts
        }
        try body(RatingEvent(user: ExternalID(utf8: fields[0]), item: ExternalID(utf8: fields[1]),
                             rating: rating, timestamp: timestamp))
    }
}

extension Float {
    /// Parses ASCII decimal text without building a String for the common
    /// short case.
    init?(ascii bytes: UnsafeRawBufferPointer) {
        guard let value = Float(String(decoding: bytes, as: UTF8.self)) else { return nil }
        self = value
    }
}

extension Int64 {
    init?(ascii bytes: UnsafeRawBufferPointer) {
        guard let value = Int64(String(decoding: bytes, as: UTF8.self)) else { return nil }
        self = value
    }
}
