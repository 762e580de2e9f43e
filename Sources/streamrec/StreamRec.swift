import ArgumentParser
import Foundation
import StreamRecServer
import ZeroMQ

/// `streamrec`: the command-line client for streamrecd.
@main
struct StreamRec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "streamrec",
        abstract: "Talk to a running streamrecd: push ratings, ask for recommendations, inspect it.",
        discussion: """
        Start the daemon first (streamrecd). Then, for example:
          streamrec push ratings.tsv.gz   send `user item rating [ts]` lines
          streamrec top 42                user 42's top 10 items
          streamrec predict 42 7          how user 42 would rate item 7
          streamrec stats                 counters, sizes, last snapshot
          streamrec inspect FILE          check a snapshot (.srs) or log segment (.srl)
        """,
        subcommands: [Push.self, Bench.self, Evaluate.self, Predict.self, Top.self, Similar.self, Popular.self, Observe.self, Stats.self, Health.self,
                      Snapshot.self, Keygen.self, Inspect.self]
    )
}

/// The endpoints this client uses when no flag names them: the daemon's own
/// `STREAMREC_REP` and `STREAMREC_PULL`, else the daemon's defaults
/// (`DaemonConfig`'s, so the two cannot drift apart), so that
/// one `export STREAMREC_REP=…` points the daemon and its client at the same
/// socket.
enum DefaultEndpoint {
    static var rep: String { environment("STREAMREC_REP") ?? DaemonConfig().repEndpoint }
    static var pull: String { environment("STREAMREC_PULL") ?? DaemonConfig().pullEndpoint }

    private static func environment(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Where the daemon's query socket is and how long to wait for it.
struct QueryOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The daemon's query endpoint ($STREAMREC_REP when set).", valueName: "endpoint"))
    var rep = DefaultEndpoint.rep

    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds to wait for a reply.", valueName: "seconds"))
    var timeout: Double = 5

    @Option(help: ArgumentHelp("The daemon's CURVE public key (Z85) or a file holding it; turns CURVE on.", valueName: "key|file"))
    var serverKey: String?

    @Option(help: ArgumentHelp("This client's CURVE secret key or key file (from streamrec keygen).", valueName: "key|file"))
    var clientSecret: String?

    @Option(help: ArgumentHelp("This client's CURVE public key or key file; derived from --client-secret when left out.", valueName: "key|file"))
    var clientKey: String?

    func validate() throws {
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a positive number of seconds") }
    }

    /// The CURVE keys to connect with, or nil for plaintext.
    func curve() throws -> CurveClientKeys? {
        guard let serverKey else {
            guard clientSecret == nil, clientKey == nil else { throw ValidationError("client keys need --server-key too") }
            return nil
        }
        guard let clientSecret else { throw ValidationError("--server-key needs --client-secret (make one with streamrec keygen)") }
        do { return try CurveClientKeys(serverKey: serverKey, secretKey: clientSecret, publicKey: clientKey) } catch {
            throw ValidationError("\(error)")
        }
    }

    /// A query client for these options.
    func client(context: Context? = nil) throws -> QueryClient {
        try QueryClient(endpoint: rep, timeout: timeout, context: context, curve: curve())
    }
}
