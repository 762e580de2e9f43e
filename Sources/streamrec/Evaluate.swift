import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StreamRecCore
import StreamRecServer

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a ratings file through the daemon's learner and report its accuracy.",
        discussion: """
        Runs in-process, no daemon needed. Two modes:
          prequential:  streamrec evaluate --stream stream.tsv.gz
            predict each event, then learn it: RMSE, MAE and HR@N over the stream.
          holdout:      streamrec evaluate --train train.tsv.gz --test test.tsv.gz
            learn the train file, then score the test file without learning.
        HR@N: for every k-th event rated >= --hr-threshold, is its item in the \
        user's top N (items seen so far, minus what the user rated)? \
        (--positive-threshold is the model's: which ratings take pairwise steps.)
        A progress line shows on stderr while files load and while a prequential \
        stream is learned, when stderr is a terminal.
        With --hr-every 0, and for holdout training, the item-neighbour head is \
        counted on a second thread (nothing asks for a top-N meanwhile); the model \
        learned is the same.
        """
    )

    @Option(help: ArgumentHelp("Stream for prequential (test-then-train) evaluation.", valueName: "file"))
    var stream: String?
    @Option(help: ArgumentHelp("Training file for holdout evaluation.", valueName: "file"))
    var train: String?
    @Option(help: ArgumentHelp("Test file for holdout evaluation.", valueName: "file"))
    var test: String?
    @OptionGroup var model: ModelOptions
    @Option(parsing: .unconditional, help: ArgumentHelp("Ratings at or above this are the positives HR@N scores.", valueName: "rating"))
    var hrThreshold: Float = 8
    @Option(parsing: .unconditional, help: ArgumentHelp("Score HR on every k-th positive; 0 turns HR off.", valueName: "k")) var hrEvery = 20
    @Option(parsing: .unconditional, help: ArgumentHelp("N of HR@N.", valueName: "n")) var hrN = 10
    @Option(parsing: .unconditional, help: ArgumentHelp("Holdout: after the train file, replay this many passes' worth of events from the reservoir (what an idle daemon does). Needs --reservoir-size.", valueName: "passes"))
    var replayPasses: Double = 0
    @Option(help: ArgumentHelp("Write a CSV learning curve (prequential) here.", valueName: "file"))
    var curve: String?
    @Option(help: ArgumentHelp("Write an SVG plot of RMSE and HR@N over the stream (prequential) here.", valueName: "file"))
    var plot: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("Curve points over the stream.", valueName: "count")) var curvePoints = 100

    func validate() throws {
        guard (stream != nil) != (train != nil || test != nil) else {
            throw ValidationError("give either --stream, or --train and --test")
        }
        guard stream != nil || (train != nil && test != nil) else {
            throw ValidationError("holdout needs both --train and --test")
        }
        guard hrEvery >= 0 else { throw ValidationError("--hr-every must be >= 0 (0 turns HR off)") }
        guard hrN >= 1 else { throw ValidationError("--hr-n must be at least 1") }
        guard replayPasses >= 0 else { throw ValidationError("--replay-passes must be >= 0") }
        guard curvePoints >= 1 else { throw ValidationError("--curve-points must be at least 1") }
    }

    func run() throws {
        var hr = Evaluator.HitRateSettings()
        hr.positiveThreshold = hrThreshold
        hr.every = hrEvery
        hr.listLength = hrN
        var evaluator = Evaluator(model: Model(settings: model.settings), hitRate: hr)
        if let stream {
            let events = try load(stream)
            var points: [(Int, Evaluator.Totals)] = []
            let stride = max(1, events.count / max(1, curvePoints))
            // Read once: an @Option getter costs a generic-metadata lookup per call.
            let tracing = curve != nil || plot != nil
            var progress = ProgressBar(total: events.count)
            let start = Clock.monotonic()
            evaluator.prequential(stream: events) { n, totals in
                if tracing, n % stride == 0 { points.append((n, totals)) }
                if n & 0xFFFF == 0 || n == events.count {
                    progress.update(done: n, events: n, elapsed: Clock.monotonic() - start)
                }
            }
            let seconds = Clock.monotonic() - start
            progress.finish()
            report(mode: "prequential", file: stream, totals: evaluator.totals, learned: events.count, seconds: seconds)
            let windows = windowed(points)
            if let curve { try write(csv(windows), to: curve) }
            if let plot { try write(CurvePlot.svg(windows, title: "prequential: \(stream)", hrLabel: "HR@\(hrN)"), to: plot) }
        } else if let train, let test {
            let trainEvents = try load(train), testEvents = try load(test)
            let start = Clock.monotonic()
            evaluator.learn(trainEvents)
            evaluator.model.replay(count: Int(replayPasses * Double(trainEvents.count)))
            let seconds = Clock.monotonic() - start
            for event in testEvents { evaluator.score(event) }
            report(mode: "holdout", file: test, totals: evaluator.totals, learned: trainEvents.count, seconds: seconds)
        }
    }

    /// Every event of a ratings file, with a progress line over its bytes.
    private func load(_ path: String) throws -> [RatingEvent] {
        var events: [RatingEvent] = []
        let reader = try RatingFile(path: path)
        let size = fileSize(path)
        var progress = ProgressBar(total: size)
        let start = Clock.monotonic()
        try reader.forEach { event in
            events.append(event)
            if events.count & 0xFFFF == 0 {
                progress.update(done: reader.compressedOffset, events: events.count, elapsed: Clock.monotonic() - start)
            }
        }
        progress.update(done: size, events: events.count, elapsed: Clock.monotonic() - start)
        progress.finish()
        return events
    }

    private func report(mode: String, file: String, totals: Evaluator.Totals, learned: Int, seconds: Double) {
        let s = model.settings
        print("mode          \(mode) (\(file))")
        print("model         k=\(s.factors) \(s.optimizer) lr=\(s.learningRate) bias-lr=\(s.biasLearningRate) reg=\(s.regularization) seed=\(s.seed)")
        print("ranking       negatives=\(s.negatives) pairwise-lr=\(s.pairwiseLearningRate) sampler=\(s.sampler) reservoir=\(s.reservoirSize)")
        print("events scored \(totals.events)")
        print("RMSE          \(fixed(totals.rmse, 4))")
        print("MAE           \(fixed(totals.mae, 4))")
        if totals.scored > 0 {
            print("HR@\(hrN)         \(fixed(totals.hitRate, 4))  (\(totals.hits) hits in \(totals.scored) scored positives, every \(hrEvery)th rating >= \(hrThreshold))")
        }
        print("learn speed   \(Int(Double(learned) / max(seconds, 1e-9))) events/s (\(learned) events in \(fixed(seconds, 3)) s\(totals.scored > 0 ? ", HR scoring included" : ""))")
    }

    /// Per-window figures: each point covers the events since the previous one.
    private func windowed(_ points: [(Int, Evaluator.Totals)]) -> [CurvePlot.Point] {
        var previous = Evaluator.Totals()
        return points.map { n, t in
            var window = Evaluator.Totals()
            window.events = t.events - previous.events
            window.squaredError = t.squaredError - previous.squaredError
            window.absoluteError = t.absoluteError - previous.absoluteError
            window.scored = t.scored - previous.scored
            window.hits = t.hits - previous.hits
            previous = t
            return CurvePlot.Point(events: n, rmse: window.rmse, hitRate: window.scored > 0 ? window.hitRate : nil)
        }
    }

    private func csv(_ points: [CurvePlot.Point]) -> String {
        "events,rmse,hr\n" + points.map { "\($0.events),\(fixed($0.rmse, 5)),\($0.hitRate.map { fixed($0, 5) } ?? "")\n" }.joined()
    }

    private func write(_ text: String, to path: String) throws {
        var bytes = Array(text.utf8)
        try bytes.withUnsafeMutableBytes { try AtomicFile.write(UnsafeRawBufferPointer($0), to: path) }
    }
}

/// Fixed-point text with `digits` decimals.
func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "n/a" }
    var scaled = (value * pow(10, Double(digits))).rounded()
    let negative = scaled < 0
    scaled = abs(scaled)
    var text = String(Int(scaled))
    while text.count <= digits { text = "0" + text }
    text.insert(".", at: text.index(text.endIndex, offsetBy: -digits))
    return (negative ? "-" : "") + text
}

