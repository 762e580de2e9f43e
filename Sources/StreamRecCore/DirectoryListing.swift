#if canImport(Glibc)
import Glibc
#endif

/// Directory reads for the core's file formats, without Foundation (the core
/// links only zlib).
public enum DirectoryListing {
    /// The names in `directory`, without "." and "..", unsorted.
    public static func names(_ directory: String) throws -> [String] {
        guard let dir = opendir(directory) else { throw FileError("list directory", directory) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// Log segments in `directory` as (first sequence number, path), in log order.
    public static func logSegments(_ directory: String) throws -> [(first: UInt64, path: String)] {
        try names(directory)
            .compactMap { name in WALFormat.firstSequence(ofFileName: name).map { ($0, directory + "/" + name) } }
            .sorted { $0.first < $1.first }
    }
}
