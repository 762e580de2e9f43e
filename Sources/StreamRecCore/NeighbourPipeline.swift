import Dispatch

/// Counts a detached neighbour head on a thread of its own, while the
/// caller's thread keeps learning the embeddings.
///
/// The head is nearly half of all learning on the anime stream (perf:
/// `NeighbourTable.countCoLikes` and what it calls) and nothing else the
/// model learns reads it, so two cores can share an event: the caller's
/// `Model.observe` queues the head's share (`Model.detachNeighbourHead`)
/// and hands it over here in batches, in order, and `finish` puts the
/// head back as counting in line would have left it. `Evaluator` uses it where
/// nothing asks `top` mid-stream (HR off, holdout training), and so does
/// log recovery, before the daemon serves. The live daemon does not: its
/// queries read the head between any two events.
///
/// Batches travel through a small bounded queue (a mutex-guarded array and
/// two semaphores): a batch of a few thousand ratings costs one hand-off,
/// and a producer that gets ahead waits instead of queueing the stream.
public final class NeighbourPipeline: @unchecked Sendable {
    /// Ratings per hand-off.
    public static let batchSize = 4096
    /// Batches in flight at most.
    static let depth = 8

    /// The head before the worker takes it and after it is done; nil while
    /// the worker counts into its own local copy (a class property would
    /// cost an access check, a retain and a release per rating).
    private var head: NeighbourHead?
    private let batches = Locked<[[NeighbourRating]]>([])
    private let queued = DispatchSemaphore(value: 0)
    private let room = DispatchSemaphore(value: NeighbourPipeline.depth)
    private let worker = DispatchGroup()
    /// Set by `finish`; read and written only by the caller's thread.
    private var finished = false

    /// Detaches `model`'s neighbour head (`Model.detachNeighbourHead`) and
    /// starts counting it on another thread; nil when the model has no head.
    public static func start(detachingFrom model: inout Model) -> NeighbourPipeline? {
        model.hasNeighbourHead ? NeighbourPipeline(model.detachNeighbourHead()) : nil
    }

    private init(_ head: NeighbourHead) {
        self.head = head
        worker.enter()
        NamedThread.start("sr-neighbours") { [self] in
            work()
            worker.leave()
        }
    }

    /// Sends the ratings `model` has queued once there are at least `least`
    /// (waiting while the queue is full). Call it between events.
    public func handOver(from model: inout Model, atLeast least: Int = NeighbourPipeline.batchSize) {
        guard model.detachedNeighbourRatings?.count ?? 0 >= max(1, least) else { return }
        enqueue(model.takeDetachedNeighbourRatings())
    }

    /// Sends what is left, waits until every rating has been counted, and
    /// puts the head back into `model`.
    public func finish(into model: inout Model) {
        precondition(!finished, "finish was already called")
        finished = true
        handOver(from: &model, atLeast: 1)
        enqueue([])  // the end marker
        worker.wait()
        model.attach(head!)
    }

    private func enqueue(_ batch: [NeighbourRating]) {
        room.wait()
        batches.withLock { $0.append(batch) }
        queued.signal()
    }

    private func work() {
        var head = self.head!
        self.head = nil  // so the local copy is the only one, and counting never copies it
        defer { self.head = head }
        while true {
            queued.wait()
            let batch = batches.withLock { $0.removeFirst() }
            room.signal()
            if batch.isEmpty { return }
            for (n, rating) in batch.enumerated() {
                // One rating ahead, as `Model.observe` fetches for the next event.
                if n + 1 < batch.count { head.prefetch(user: batch[n + 1].user, item: batch[n + 1].item) }
                head.count(rating)
            }
        }
    }
}
