import ArgumentParser

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
        """,
        subcommands: [Push.self, Evaluate.self, Predict.self, Top.self, Similar.self, Popular.self, Observe.self, Stats.self, Snapshot.self]
    )
}

/// Where the daemon's query socket is and how long to wait for it.
struct QueryOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The daemon's query endpoint.", valueName: "endpoint"))
    var rep = "tcp://127.0.0.1:5556"

    @Option(help: ArgumentHelp("Seconds to wait for a reply.", valueName: "seconds"))
    var timeout: Double = 5
}
