#if canImport(Glibc)
import Glibc
#endif
import StreamRecCore
import StreamRecServer

/// The memory check: builds a model in-process and compares the process's
/// resident set to what the model's data needs at minimum.
enum BenchRSS {
    /// Learns `events` synthetic events over `users` × `items` and prints
    /// RSS against embedding and bias bytes + 40 B per ID + 8 B per stored pair
    /// (the formula: derived data such as the byte scan
    /// mirror counts against the budget, not towards it).
    static func run(users: UInt64, items: UInt64, events: Int, settings: ModelSettings) {
        ProcessMemory.returnLargeFreesToTheSystem()  // as streamrecd does
        var model = Model(settings: settings)
        let start = Clock.monotonic()
        // In batches of 1,000, as the daemon applies a binary frame.
        var batch: [RatingEvent] = []
        batch.reserveCapacity(1000)
        for event in SyntheticEvents(count: events, users: users, items: items) {
            batch.append(event)
            if batch.count == 1000 {
                model.observe(batch[...])
                batch.removeAll(keepingCapacity: true)
            }
        }
        model.observe(batch[...])
        let seconds = Clock.monotonic() - start
        let floats = [model.userFactors.values, model.itemFactors.values, model.userRankFactors.values,
                      model.itemRankFactors.values, model.userBias, model.itemBias, model.itemRankBias,
                      model.userBiasSteps, model.itemBiasSteps, model.userRowPower, model.itemRowPower]
            .reduce(0) { $0 + $1.count } * 4
        let ids = (model.users.count + model.items.count) * 40
        let pairs = model.ratedPairs.count * 8
        let formula = floats + ids + pairs
        let rss = residentBytes()
        print("model         \(model.users.count) users, \(model.items.count) items, \(events) events (\(model.ratedPairs.count) distinct pairs), k=\(settings.factors), learned at \(Int(Double(events) / seconds)) events/s")
        print("formula       \(mib(formula)) MiB = embeddings and biases \(mib(floats)) + IDs \(mib(ids)) + pairs \(mib(pairs))")
        print("RSS           \(mib(rss)) MiB = \(fixed(Double(rss) / Double(formula), 2)) x formula (target <= 1.50)")
    }

    /// VmRSS from /proc/self/status, in bytes.
    static func residentBytes() -> Int {
        guard let file = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(cString: line)
            if text.hasPrefix("VmRSS:"), let kb = Int(text.split(separator: " ")[1]) { return kb * 1024 }
        }
        return 0
    }

    private static func mib(_ bytes: Int) -> String { fixed(Double(bytes) / 1_048_576, 1) }
}
