import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import Histogram
import StreamRecCore
import StreamRecServer
import ZeroMQ

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load-test a running daemon and quote its figures as ratios to bare libzmq.",
        discussion: """
        Start a daemon first, e.g. `streamrecd --data-dir /tmp/bench --snapshot-interval 0 --replay-rate 0`. \
        Each run waits until the daemon has taken everything queued for it, measures the zmq-floor figures \
        (thr, lat), then ingest rates (binary batches, JSON arrays, one JSON event per message) and query \
        round trips (predict, top-10) idle and under concurrent binary ingest; medians over the runs are \
        printed. `--rss` instead builds a model in-process (no daemon) and compares its resident memory to \
        the size of its data.
        """
    )

    @Option(help: ArgumentHelp("The zmq-floor binary, built from the shared tools' zmq-floor.c: cc -O2 -o .build/zmq-floor ../shared/tools/zmq-floor.c -lzmq (docs/BENCHMARKS.md).", valueName: "path"))
    var floor = ".build/zmq-floor"
    @Option(help: ArgumentHelp("The daemon's ingest endpoint ($STREAMREC_PULL when set).", valueName: "endpoint"))
    var pull = DefaultEndpoint.pull
    @OptionGroup var options: QueryOptions
    @Option(parsing: .unconditional, help: "Repetitions; the report shows medians.") var runs = 3
    @Option(parsing: .unconditional, help: "Events per batched ingest run (binary and JSON arrays).") var events = 2_000_000
    @Option(parsing: .unconditional, help: "Events per one-JSON-event-per-message run.") var singleEvents = 300_000
    @Option(parsing: .unconditional, help: "Events per batch message.") var batch = 1000
    @Option(parsing: .unconditional, help: "Round trips per latency figure.") var queries = 20_000
    @Option(help: ArgumentHelp("Push this ratings file (cycled) instead of synthetic events.", valueName: "file"))
    var file: String?
    @Option(parsing: .unconditional, help: "Synthetic users.") var users: UInt64 = 100_000
    @Option(parsing: .unconditional, help: "Synthetic items (top-10 ranks all of them).") var items: UInt64 = 10_000
    @Option(help: ArgumentHelp("Where to run zmq-floor's bare echo server, to time this client against it.", valueName: "endpoint"))
    var echo = "tcp://127.0.0.1:47013"
    @Flag(help: "Measure memory instead: 1 M users, 100 k items, 10 M events in-process.") var rss = false
    @Flag(help: "Measure top-10 compute time in-process over 10 k, 100 k and 1 M items instead.") var topScan = false
    @Flag(help: "Measure serving instead: top-10 idle and under ingest at --ingest-fraction of the measured maximum, and top-10 and similar-10 throughput with 1 and --clients clients.")
    var serving = false
    @Option(parsing: .unconditional, help: "With --serving: the share of the maximum binary ingest rate to load the daemon with.") var ingestFraction = 0.5
    @Option(parsing: .unconditional, help: "With --serving: parallel clients for the throughput figure.") var clients = 4
    @OptionGroup(title: "Model options (for --rss and --top-scan, which build a model in-process)") var model: ModelOptions

    func validate() throws {
        for (name, value) in [("--runs", runs), ("--events", events), ("--single-events", singleEvents), ("--batch", batch),
                              ("--queries", queries), ("--clients", clients)] where value < 1 {
            throw ValidationError("\(name) must be at least 1 (got \(value))")
        }
        guard users >= 1, items >= 1 else { throw ValidationError("--users and --items must be at least 1") }
        guard ingestFraction > 0, ingestFraction <= 1 else { throw ValidationError("--ingest-fraction must be in (0, 1]") }
        guard rss || topScan || access(floor, X_OK) == 0 else {
            throw ValidationError("no zmq-floor program at \(floor) (--floor): build it with "
                + "`cc -O2 -o \(floor) ../shared/tools/zmq-floor.c -lzmq` (docs/BENCHMARKS.md, \"Reproduce\")")
        }
    }

    func run() throws {
        if rss {
            BenchRSS.run(users: 1_000_000, items: 100_000, events: 10_000_000, settings: model.settings)
            return
        }
        if topScan {
            BenchTopScan.run(catalogues: [10_000, 100_000, 1_000_000], users: 10_000, queries: 300, settings: model.settings)
            return
        }
        let context = try Context()
        let stats = try QueryClient(endpoint: options.rep, timeout: 600, context: context)
        let ingest = IngestRun(pull: pull, stats: stats, context: context)
        let latency = LatencyRun(client: stats)
        let pool = try eventPool(max(events, singleEvents))
        var messages: [IngestShape: [[UInt8]]] = [:]
        for shape in IngestShape.allCases {
            messages[shape] = shape.messages(Array(pool.prefix(shape == .json ? singleEvents : events)), batch: batch)
        }
        let requests = queryRequests(pool)
        if serving {
            return try measureServing(ingest: ingest, latency: latency, messages: messages[.binary]!, top: requests[1].1,
                                      similar: similarRequests(pool), context: context)
        }
        var samples: [String: [Double]] = [:]
        for run in 1...runs {
            try ingest.settle()
            let floor = try ZMQFloor.measure(self.floor)
            samples["thr", default: []].append(floor.messagesPerSecond)
            samples["lat", default: []].append(floor.latencyP50)
            samples["predict against zmq-floor echo p50.0", default: []].append(try echoP50(requests[0].1))
            for shape in IngestShape.allCases {
                let count = shape == .json ? singleEvents : events
                samples[shape.rawValue, default: []].append(try ingest.eventsPerSecond(messages[shape]!, events: count))
            }
            for busy in [false, true] {
                let load = busy ? try BackgroundIngest(pull: pull, messages: messages[.binary]!) : nil
                for (name, list) in requests {
                    let h = try latency.measure(list, count: name == "predict" ? queries : queries / 4)
                    for p in [50.0, 99.0, 99.9] {
                        samples["\(name) \(busy ? "under ingest" : "idle") p\(p)", default: []]
                            .append(Double(h.valueAtPercentile(p)) / 1000)
                    }
                }
                if let load {
                    load.finish()
                    try ingest.settle()
                }
            }
            print("run \(run)/\(runs) done")
        }
        report(samples)
    }

    /// The serving figures (issue 7), medians over `runs`.
    private func measureServing(ingest: IngestRun, latency: LatencyRun, messages: [[UInt8]], top: [[UInt8]],
                                similar: [[UInt8]], context: Context) throws {
        let serving = ServingRun(pull: pull, rep: options.rep, stats: ingest.stats, context: context)
        var samples: [String: [Double]] = [:]
        for run in 1...runs {
            try ingest.settle()
            let floor = try ZMQFloor.measure(self.floor)
            samples["lat p50", default: []].append(floor.latencyP50)
            let maxRate = try ingest.eventsPerSecond(messages, events: events)
            samples["max binary ingest (events/s)", default: []].append(maxRate)
            let idle = try latency.measure(top, count: queries / 4)
            let paced = try BackgroundIngest(pull: pull, messages: messages, messagesPerSecond: ingestFraction * maxRate / Double(batch))
            let busy = try latency.measure(top, count: queries / 4)
            paced.finish()
            try ingest.settle()
            for (name, h) in [("idle", idle), ("under ingest", busy)] {
                for p in [50.0, 99.0] { samples["top-10 \(name) p\(Int(p)) (us)", default: []].append(Double(h.valueAtPercentile(p)) / 1000) }
            }
            for (name, requests) in [("top-10", top), ("similar-10", similar)] {
                for c in [1, clients] {
                    samples["\(name) throughput, \(c) clients (queries/s)", default: []]
                        .append(try serving.throughput(requests, clients: c, seconds: 3))
                }
            }
            print("run \(run)/\(runs) done")
        }
        func median(_ key: String) -> Double { let s = (samples[key] ?? []).sorted(); return s.isEmpty ? .nan : s[s.count / 2] }
        let lat = median("lat p50")
        print("\nmedians of \(runs) runs over \(items) items; zmq-floor lat p50 \(fixed(lat, 1)) us; load: \(fixed(ingestFraction, 2)) x max ingest")
        for key in samples.keys.sorted() { print("\(key): \(fixed(median(key), 1))") }
        print("top-10 idle p50 / lat p50: \(fixed(median("top-10 idle p50 (us)") / lat, 3))")
        print("top-10 p99 under ingest / idle p99: \(fixed(median("top-10 under ingest p99 (us)") / median("top-10 idle p99 (us)"), 3))")
        for name in ["top-10", "similar-10"] {
            let ratio = median("\(name) throughput, \(clients) clients (queries/s)") / median("\(name) throughput, 1 clients (queries/s)")
            print("\(name) throughput \(clients) clients / 1 client: \(fixed(ratio, 3))")
        }
    }

    /// p50 in µs of this client's predict requests bounced by zmq-floor's echo server.
    private func echoP50(_ requests: [[UInt8]]) throws -> Double {
        let pid = try ZMQFloor.startEcho(floor, endpoint: echo)
        defer {
            kill(pid, SIGTERM)
            waitpid(pid, nil, 0)
        }
        let client = try QueryClient(endpoint: echo, timeout: 10)
        return Double(try LatencyRun(client: client).measure(requests, count: queries, expectOK: false).valueAtPercentile(50)) / 1000
    }

    /// Synthetic events, or the file's events repeated until there are `count`.
    private func eventPool(_ count: Int) throws -> [RatingEvent] {
        guard let file else { return Array(SyntheticEvents(count: count, users: users, items: items)) }
        var loaded: [RatingEvent] = []
        try RatingFile(path: file).forEach { loaded.append($0) }
        guard !loaded.isEmpty else { throw ValidationError("\(file) holds no events") }
        return (0..<count).map { loaded[$0 % loaded.count] }
    }

    /// `similar` requests for the serving figures: a scan of the whole item
    /// table per query (cosines from the C kernel), heavier than a top-10's.
    private func similarRequests(_ pool: [RatingEvent]) -> [[UInt8]] {
        pool.prefix(1000).map { JSONValue.object([("op", .string("similar")), ("item", Engine.json($0.item)), ("n", .number(10))]).bytes }
    }

    /// Predict and top-10 requests over users and items that the pool has.
    private func queryRequests(_ pool: [RatingEvent]) -> [(String, [[UInt8]])] {
        let sample = pool.prefix(1000)
        func op(_ members: [(key: String, value: JSONValue)]) -> [UInt8] { JSONValue.object(members).bytes }
        let predict = sample.map { op([("op", .string("predict")), ("user", Engine.json($0.user)), ("item", Engine.json($0.item))]) }
        let top = sample.map { op([("op", .string("top")), ("user", Engine.json($0.user)), ("n", .number(10))]) }
        return [("predict", predict), ("top-10", top)]
    }

    private func report(_ samples: [String: [Double]]) {
        func median(_ key: String) -> Double {
            let sorted = (samples[key] ?? []).sorted()
            return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
        }
        let thr = median("thr"), lat = median("lat")
        print("\nmedians of \(runs) runs; zmq-floor: thr \(Int(thr)) messages/s, lat p50 \(fixed(lat, 1)) us")
        print(pad("figure", 44) + pad("median", 16) + pad("x floor", 10) + "target")
        let ingestTargets: [IngestShape: Double] = [.binary: 0.5, .json: 0.08]
        for shape in IngestShape.allCases {
            let rate = median(shape.rawValue)
            let target = ingestTargets[shape].map { ">= \($0) x thr \(rate / thr >= $0 ? "met" : "MISSED")" } ?? ""
            print(pad("ingest \(shape.rawValue) (events/s)", 44) + pad("\(Int(rate))", 16) + pad(fixed(rate / thr, 3), 10) + target)
        }
        let echo = median("predict against zmq-floor echo p50.0")
        print(pad("predict against zmq-floor echo p50.0 (us)", 44) + pad(fixed(echo, 1), 16) + pad(fixed(echo / lat, 3), 10)
              + "(this client, no daemon)")
        let latencyTargets = ["predict idle p50.0": 1.15, "top-10 idle p50.0": 1.5]
        for name in ["predict", "top-10"] {
            for state in ["idle", "under ingest"] {
                for p in ["50.0", "99.0", "99.9"] {
                    let key = "\(name) \(state) p\(p)", value = median(key)
                    let target = latencyTargets[key].map { "<= \($0) x lat \(value / lat <= $0 ? "met" : "MISSED")" } ?? ""
                    print(pad("\(key) (us)", 44) + pad(fixed(value, 1), 16) + pad(fixed(value / lat, 3), 10) + target)
                }
            }
        }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
