import ArgumentParser
import StreamRecServer

/// Sends one request, prints the reply as JSON, and fails when it is `ok:false`.
func send(_ request: JSONValue, _ options: QueryOptions) throws {
    let client = try QueryClient(endpoint: options.rep, timeout: options.timeout)
    let reply = try client.request(request)
    print(reply.text)
    guard reply["ok"] == .bool(true) else { throw ExitCode(1) }
}

/// An ID argument as JSON: digits go as a number, anything else as a string
/// (the daemon treats both spellings as the same ID).
func idJSON(_ text: String) -> JSONValue { .string(text) }

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Predict the rating USER would give ITEM.")
    @Argument(help: "User ID.") var user: String
    @Argument(help: "Item ID.") var item: String
    @OptionGroup var options: QueryOptions

    func run() throws {
        try send(.object([("op", .string("predict")), ("user", idJSON(user)), ("item", idJSON(item))]), options)
    }
}

struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A user's best N items (popular items for a user the daemon has not seen).")
    @Argument(help: "User ID.") var user: String
    @Option(name: .shortAndLong, help: "How many items (1-1000).") var n = 10
    @Flag(help: "Include items the user already rated.") var includeSeen = false
    @OptionGroup var options: QueryOptions

    func run() throws {
        try send(.object([("op", .string("top")), ("user", idJSON(user)), ("n", .number(n)),
                          ("exclude_seen", .bool(!includeSeen))]), options)
    }
}

struct Popular: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The items rated by the most users.")
    @Option(name: .shortAndLong, help: "How many items (1-1000).") var n = 10
    @OptionGroup var options: QueryOptions

    func run() throws {
        try send(.object([("op", .string("popular")), ("n", .number(n))]), options)
    }
}

struct Observe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply one rating synchronously and print the prediction made just before it.")
    @Argument(help: "User ID.") var user: String
    @Argument(help: "Item ID.") var item: String
    @Argument(help: "The rating.") var rating: Float
    @OptionGroup var options: QueryOptions

    func run() throws {
        try send(.object([("op", .string("observe")), ("user", idJSON(user)), ("item", idJSON(item)),
                          ("rating", .number(rating))]), options)
    }
}

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Counters, model size and the last snapshot.")
    @OptionGroup var options: QueryOptions

    func run() throws { try send(.object([("op", .string("stats"))]), options) }
}

struct Snapshot: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a snapshot now; returns once it is on disk.")
    @OptionGroup var options: QueryOptions

    func run() throws { try send(.object([("op", .string("snapshot"))]), options) }
}
