import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Shares one long scan between the calling thread and a helper thread, so
/// a single top-N over a large catalogue uses both cores of an idle machine.
///
/// The scan is cut into chunks that the two lanes claim from one counter, so
/// the caller never waits for the helper to wake up: if the helper is slow
/// (this guest takes 10–40 µs to run a woken thread on the other vCPU) or
/// busy with another query's scan, the caller claims every chunk itself and
/// the scan costs what it did before. Each lane claims chunks in increasing
/// order, so each lane sees its rows in row order (what `Selection`'s tie rule
/// needs). At the end the caller waits only for the chunk the helper holds,
/// spinning briefly: a chunk is a few microseconds of work.
///
/// The helper helps a scan only while it is the only one: when a second
/// query worker starts a scan, the helper stops claiming chunks and stays
/// asleep, so two workers' scans get a core each instead of three threads
/// time-slicing two cores. (With the helper still joining, 4-client top-10
/// throughput over 100 k items with 2 workers was no better than with 1.)
///
/// Rejected: `DispatchQueue.concurrentPerform`, which measured slower than
/// one thread at 100 k items (its end-of-apply wait sleeps); a chunk per
/// `Selection` (each chunk started an empty heap, which doubled the scan's
/// cost at 8,192-row chunks); more than one helper, because the query
/// workers already spread concurrent queries over the cores, and a 2-core
/// machine has one core to spare for one query at a time.
public final class ScanSplitter: @unchecked Sendable {
    /// The process's splitter; its helper thread starts on first use.
    public static let shared = ScanSplitter()

    /// The lanes a job runs on: the caller (0) and the helper (1).
    public static let lanes = 2

    private struct Job {
        /// Valid while the slot holds the job, and for the helper until it
        /// leaves (`helperInside`); `open` is only a lock-free hint.
        let body: (Int, Int) -> Void
        let chunks: Int
        /// Which job this is (`opened`'s count when it opened).
        let generation: Int
    }

    /// The job the helper may join, and whether it is inside one. Guarded
    /// by its lock: joining and leaving are one lock each per job, never per chunk.
    private struct Slot {
        var job: Job?
        var helperInside = false
    }

    // `Job.body` is a non-escaping closure smuggled out for the job's
    // duration; `run` does not return until the helper has left it, which
    // is what makes the slot safe to share (`Locked` is `@unchecked Sendable`).
    private let slot = Locked(Slot())
    private let next = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    /// Whether the helper is awake or a wake-up is on its way to it; only
    /// the thread that sets it signals `wake`, so one wake-up serves a job.
    private let awake = Atomic<Bool>(false)
    /// How long a woken helper looks for its job before sleeping again.
    static let patience = Duration.microseconds(300)
    /// Set while a job is open: what a waiting helper spins on.
    private let open = Atomic<Bool>(false)
    /// Threads inside `run`: the helper joins and claims only while one is.
    private let scanners = Atomic<Int>(0)
    /// Jobs opened so far. The helper joins each job at most once: having
    /// stepped back from one (a second scan started), it sleeps instead of
    /// joining the same open job again in a loop, which spun a third thread
    /// on two cores for the rest of that job.
    private let opened = Atomic<Int>(0)

    /// Wakes the helper ahead of a `run` expected soon, so that its wake-up
    /// overlaps the caller's work before the scan.
    public func expectJob() {
        if !busy.load(ordering: .relaxed), scanners.load(ordering: .relaxed) == 0 { wakeHelper() }
    }

    private func wakeHelper() {
        if !awake.exchange(true, ordering: .acquiringAndReleasing) { wake.signal() }
    }

    private init() {
        NamedThread.start("sr-scan") { [self] in
            var served = 0  // the last job joined
            while true {
                wake.wait()
                repeat {
                    // Woken ahead of a job: wait for it a while. Yielding
                    // between looks lets a thread woken on this core (the
                    // query worker itself, often) run at once.
                    let deadline = ContinuousClock.now + Self.patience
                    while !(open.load(ordering: .acquiring) && helpWithOpenJob(served: &served)),
                          ContinuousClock.now < deadline {
                        sched_yield()
                    }
                    // An exchange, not a store: a store may pass the load of
                    // `open` below (x86 reorders a store before a later load),
                    // and the wake-up of a job opened meanwhile would be lost.
                    _ = awake.exchange(false, ordering: .acquiringAndReleasing)
                    // A job opened since the last look found the helper awake
                    // and sent no wake-up: look again rather than sleep.
                } while open.load(ordering: .acquiring) && opened.load(ordering: .relaxed) != served
                    && !awake.exchange(true, ordering: .acquiringAndReleasing)
            }
        }
    }

    /// Calls `body(lane, chunk)` once for each chunk in `0 ..< chunks`, on
    /// lane 0 (this thread) or lane 1 (the helper), and returns when all
    /// have run. Within a lane chunks run in increasing order. When another
    /// thread is inside `run`, every chunk runs here.
    public func run(chunks: Int, _ body: (Int, Int) -> Void) {
        let alone = scanners.add(1, ordering: .relaxed).oldValue == 0
        defer { scanners.subtract(1, ordering: .relaxed) }
        guard chunks > 1, alone, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for chunk in 0..<chunks { body(0, chunk) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in
            next.store(0, ordering: .relaxed)
            // Counted before `open` is released, so a helper that sees the
            // job open also sees that it is new.
            let generation = opened.add(1, ordering: .relaxed).newValue
            slot.withLock { $0.job = Job(body: body, chunks: chunks, generation: generation) }
            open.store(true, ordering: .releasing)
            wakeHelper()
            claim(lane: 0, chunks: chunks, body)
            // Close the job, then wait for the helper's last chunk.
            open.store(false, ordering: .relaxed)
            var inside = slot.withLock { $0.job = nil; return $0.helperInside }
            var spins = 0
            while inside {
                spins += 1
                if spins > 1_000 { sched_yield() }
                inside = slot.withLock { $0.helperInside }
            }
        }
    }

    /// Claims chunks for `lane` until none is left; the helper (lane 1) also
    /// stops when another scan has started.
    private func claim(lane: Int, chunks: Int, _ body: (Int, Int) -> Void) {
        while lane == 0 || scanners.load(ordering: .relaxed) == 1 {
            let chunk = next.add(1, ordering: .relaxed).oldValue
            guard chunk < chunks else { return }
            body(lane, chunk)
        }
    }

    /// The helper's side: join the open job unless it is the one `served`
    /// last, claim chunks until none is left (or a second scan starts),
    /// leave. False when no job is open; true when the open job is done
    /// with, so the helper may sleep.
    private func helpWithOpenJob(served: inout Int) -> Bool {
        // One copy of the job only: a second one (a `let` the tuple was
        // bound to) kept the caller's closure alive past `helperInside`, and
        // `run`'s `withoutActuallyEscaping` trapped.
        var job: Job?
        let isOpen: Bool
        (isOpen, job) = slot.withLock { s -> (Bool, Job?) in
            guard let open = s.job else { return (false, nil) }
            guard open.generation != served else { return (true, nil) }
            s.helperInside = true
            return (true, open)
        }
        guard let chunks = job?.chunks, let generation = job?.generation else { return isOpen }
        served = generation
        claim(lane: 1, chunks: chunks, job!.body)
        job = nil  // let go of the caller's closure before the caller may return
        slot.withLock { $0.helperInside = false }
        return true
    }
}

