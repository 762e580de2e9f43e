import ArgumentParser
import Foundation
import StreamRecServer

/// Sends one request, prints the reply as JSON, and fails when it is `ok:false`.
func send(_ request: JSONValue, _ options: QueryOptions) throws {
    let client = try options.client()
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
        abstract: "A user's best N items (popular items for a user the daemon has not seen).",
        discussion: """
        Give a USER, or --items for an anonymous user described by items they liked \
        (folded in, nothing stored). --exclude and --candidates take comma-separated item IDs.
        """)
    @Argument(help: "User ID (omit with --items).") var user: String?
    @Option(name: .shortAndLong, parsing: .unconditional, help: "How many items (1-1000).") var n = 10
    @Flag(help: "Include items the user already rated.") var includeSeen = false
    @Option(help: ArgumentHelp("Anonymous user: items they liked.", valueName: "id,id,...")) var items: String?
    @Option(help: ArgumentHelp("Items never to return.", valueName: "id,id,...")) var exclude: String?
    @Option(help: ArgumentHelp("Only these items may be returned.", valueName: "id,id,...")) var candidates: String?
    @OptionGroup var options: QueryOptions

    func validate() throws {
        guard (user == nil) != (items == nil) else { throw ValidationError("give exactly one of USER or --items") }
    }

    func run() throws {
        var request: [(key: String, value: JSONValue)] = [("op", .string("top"))]
        if let user { request.append(("user", idJSON(user))) }
        if let items { request.append(("items", idList(items))) }
        request += [("n", .number(n)), ("exclude_seen", .bool(!includeSeen))]
        if let exclude { request.append(("exclude", idList(exclude))) }
        if let candidates { request.append(("candidates", idList(candidates))) }
        try send(.object(request), options)
    }
}

struct Similar: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The items most similar to ITEM (cosine of embeddings).")
    @Argument(help: "Item ID.") var item: String
    @Option(name: .shortAndLong, parsing: .unconditional, help: "How many items (1-1000).") var n = 10
    @OptionGroup var options: QueryOptions

    func run() throws {
        try send(.object([("op", .string("similar")), ("item", idJSON(item)), ("n", .number(n))]), options)
    }
}

/// A comma-separated list of IDs as a JSON array.
func idList(_ text: String) -> JSONValue {
    .array(text.split(separator: ",").map { idJSON(String($0).trimmingCharacters(in: .whitespaces)) })
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

struct Health: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Whether the daemon answers (for scripts: exit 0 when it does).")
    @OptionGroup var options: QueryOptions

    func run() throws { try send(.object([("op", .string("health"))]), options) }
}

struct Snapshot: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a snapshot now; returns once it is on disk.")
    @OptionGroup var options: QueryOptions

    func run() throws { try send(.object([("op", .string("snapshot"))]), options) }
}
