import ArgumentParser

/// When the write-ahead log is forced to disk, as Redis's `appendfsync`.
///
/// Every policy `write(2)`s the log at the end of each event-loop turn, so a
/// killed process (the OS survives) loses only the turn in progress. They
/// differ in what survives power loss or an OS crash:
/// - `always`: fdatasync at the end of every turn that logged something,
///   and before every `observe` reply. Nothing acknowledged is lost.
/// - `everysec`: fdatasync on a background thread once a second; about the
///   last second is lost.
/// - `no`: never fdatasync (only at segment close and clean shutdown); what
///   the OS had not written back (typically up to 30 s) is lost.
public enum FsyncPolicy: String, CaseIterable, Sendable, ExpressibleByArgument {
    case always
    case everysec
    case no
}
