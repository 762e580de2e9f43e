import Dispatch
import Foundation
import Synchronization
import XCTest
@testable import StreamRecCore

/// `ScanSplitter` runs every chunk once, in order within each lane, and
/// `top` over a catalogue large enough to be split answers as one lane would.
final class ScanSplitterTests: XCTestCase {
    /// The chunks each lane ran, in the order it ran them.
    private final class Record: Sendable {
        private let chunks = Locked(Array(repeating: [Int](), count: ScanSplitter.lanes))
        func add(lane: Int, chunk: Int) { chunks.withLock { $0[lane].append(chunk) } }
        var lanes: [[Int]] { chunks.withLock { $0 } }
    }

    /// Each of 0 ..< chunks runs exactly once, each lane in increasing order; with slow chunks the helper takes part.
    func testEveryChunkRunsOnceInOrderPerLane() {
        var helperChunks = 0
        for chunks in [0, 1, 2, 20] {
            for _ in 0..<5 {
                let record = Record()
                ScanSplitter.shared.run(chunks: chunks) { lane, chunk in
                    record.add(lane: lane, chunk: chunk)
                    usleep(300)  // long enough that a woken helper finds chunks left
                }
                let lanes = record.lanes
                XCTAssertEqual(lanes.flatMap { $0 }.sorted(), Array(0..<chunks), "\(chunks) chunks")
                for lane in lanes { XCTAssertEqual(lane, lane.sorted(), "a lane ran chunks out of order") }
                helperChunks += lanes[1].count
            }
        }
        XCTAssertGreaterThan(helperChunks, 0, "the helper never took a chunk")
    }

    /// Many short jobs in a row all run their chunks and some are shared; a helper that still held a job's closure when `run` returned would make `withoutActuallyEscaping` trap (caught in most runs, not all: it is a race).
    func testHelperReleasesEachJobBeforeRunReturns() {
        var shared = 0
        for _ in 0..<3_000 {
            let record = Record()
            let joined = Atomic<Bool>(false)
            // The caller waits in chunk 0 for the helper to take chunk 1,
            // which lasts a few microseconds more, so that the caller is
            // waiting at the end when the helper leaves.
            ScanSplitter.shared.run(chunks: 2) { lane, chunk in
                record.add(lane: lane, chunk: chunk)
                if lane == 1 {
                    joined.store(true, ordering: .releasing)
                    let until = DispatchTime.now().uptimeNanoseconds + 3_000
                    while DispatchTime.now().uptimeNanoseconds < until {}
                } else if chunk == 0 {
                    let deadline = DispatchTime.now().uptimeNanoseconds + 200_000
                    while !joined.load(ordering: .acquiring), DispatchTime.now().uptimeNanoseconds < deadline {}
                }
            }
            let lanes = record.lanes
            XCTAssertEqual(lanes.flatMap { $0 }.sorted(), [0, 1])
            if !lanes[1].isEmpty { shared += 1 }
        }
        XCTAssertGreaterThan(shared, 0, "the helper never joined a job")
    }

    /// Jobs from four threads at once each run all their chunks once (a job that finds the helper busy runs alone).
    func testConcurrentJobsEachRunAllTheirChunks() {
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for round in 0..<50 {
                let chunks = 1 + (thread * 7 + round) % 13
                let record = Record()
                ScanSplitter.shared.run(chunks: chunks) { lane, chunk in record.add(lane: lane, chunk: chunk) }
                if record.lanes.joined().sorted() != Array(0..<chunks) {
                    failures.add(1, ordering: .relaxed)
                }
            }
        }
        XCTAssertEqual(failures.load(ordering: .relaxed), 0)
    }

    /// The CPU time the scan helper thread (`sr-scan`) has used so far, in nanoseconds.
    private func helperCPUNanoseconds() throws -> UInt64 {
        for task in try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") {
            let comm = try String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)
            guard comm.trimmingCharacters(in: .whitespacesAndNewlines) == "sr-scan" else { continue }
            let schedstat = try String(contentsOfFile: "/proc/self/task/\(task)/schedstat", encoding: .utf8)
            if let onCPU = schedstat.split(separator: " ").first.flatMap({ UInt64($0) }) { return onCPU }
        }
        throw XCTSkip("no sr-scan thread with a readable schedstat")
    }

    /// Once a second thread is inside `run`, the helper takes at most the chunk it was starting, the second job runs alone, and the helper sleeps rather than spins while the first job finishes.
    func testHelperStepsBackWhileASecondScanRuns() throws {
        let record = Record()
        let secondInside = Atomic<Bool>(false), startedAfter = Atomic<Int>(0)
        let secondLanes = Locked<Set<Int>>([])
        let second = DispatchSemaphore(value: 0), secondDone = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            second.wait()
            ScanSplitter.shared.run(chunks: 8) { lane, _ in
                secondLanes.withLock { _ = $0.insert(lane) }
                secondInside.store(true, ordering: .releasing)
                usleep(20_000)  // stay inside while the first job's chunks run
            }
            secondDone.signal()
        }
        var helperJoined = false
        var stepBack = (cpu: UInt64?.none, wall: DispatchTime.now().uptimeNanoseconds)
        ScanSplitter.shared.run(chunks: 400) { lane, chunk in
            if lane == 1, secondInside.load(ordering: .acquiring) { startedAfter.add(1, ordering: .relaxed) }
            record.add(lane: lane, chunk: chunk)
            if lane == 0, !helperJoined, !record.lanes[1].isEmpty {
                helperJoined = true
                second.signal()  // the helper has joined: now start the second scan
                while !secondInside.load(ordering: .acquiring) { sched_yield() }
                stepBack = (try? helperCPUNanoseconds(), DispatchTime.now().uptimeNanoseconds)
            }
            usleep(200)
        }
        let endCPU = try? helperCPUNanoseconds(), window = DispatchTime.now().uptimeNanoseconds - stepBack.wall
        // The second scan ends before any skip, so it cannot run into the next test.
        if !helperJoined { second.signal() }
        secondDone.wait()
        try XCTSkipUnless(helperJoined, "the helper never joined the first job, so there was nothing to step back from")
        guard let startCPU = stepBack.cpu, let endCPU else { throw XCTSkip("no readable schedstat for sr-scan") }
        let helperCPU = endCPU - startCPU
        XCTAssertLessThan(Double(helperCPU), 0.25 * Double(window),
                          "the helper used \(helperCPU) ns of CPU in \(window) ns beside a second scan")
        XCTAssertEqual(record.lanes.flatMap { $0 }.sorted(), Array(0..<400))
        XCTAssertLessThanOrEqual(startedAfter.load(ordering: .relaxed), 1, "the helper kept claiming chunks beside a second scan")
        XCTAssertEqual(secondLanes.withLock { $0 }, [0], "the second job shared its scan")
    }

    /// Over catalogues past `Model.splitScanRows`, with random rows and with rows that tie exactly, `scan`, shared or not, returns what a one-lane scan of every row returns.
    func testSplitScanEqualsOneLaneScan() {
        XCTAssertGreaterThan(Model.splitScanRows, Model.splitChunkRows)
        var rng = SplitMix64(seed: 99)
        for items in [Model.splitScanRows, Model.splitScanRows + 1, 5 * Model.splitChunkRows + 17] {
            let model = Model.catalogue(items: items)
            for ties in [false, true] {
            var table = FactorTable(dimension: 8)
            // With ties, a few distinct rows repeated, so many rows in both lanes tie.
            let distinct = (0..<(ties ? 50 : items)).map { _ in (0..<8).map { _ in rng.nextSignedUnit() } }
            for i in 0..<items { table.values += distinct[(i * 31) % distinct.count] }
            let bias = [Float](repeating: 0, count: items)
            let bytes = ByteRows(mirroring: table)
            for _ in 0..<5 {
                let vector = UserVector(values: (0..<8).map { _ in rng.nextSignedUnit() }, base: 0)
                for n in [1, 10, 100] {
                    // A helper already awake takes chunks from the start.
                    ScanSplitter.shared.expectJob()
                    usleep(50)
                    let split = model.scan(n: n, vector: vector, table: table, bytes: bytes, bias: bias, candidates: nil,
                                           excluded: RowBitmap(rows: 0))
                    // Candidates listing every row take the exact one-lane path.
                    let oneLane = model.scan(n: n, vector: vector, table: table, bytes: bytes, bias: bias,
                                             candidates: (0..<Int32(items)).map { $0 }, excluded: RowBitmap(rows: 0))
                    // So does a scan told not to share (`--query-threads 1`).
                    let unshared = model.scan(n: n, vector: vector, table: table, bytes: bytes, bias: bias,
                                              candidates: nil, excluded: RowBitmap(rows: 0), sharing: false)
                    XCTAssertEqual(split.map(\.row), oneLane.map(\.row), "items \(items) n \(n)")
                    XCTAssertEqual(split.map(\.score), oneLane.map(\.score), "items \(items) n \(n)")
                    XCTAssertEqual(unshared.map(\.row), oneLane.map(\.row), "items \(items) n \(n), unshared")
                    XCTAssertEqual(unshared.map(\.score), oneLane.map(\.score), "items \(items) n \(n), unshared")
                }
            }
            }
        }
    }

    /// With the best 20 rows of every block excluded (which the block-maxima floor must not count), `scan` returns what an exact scan of the allowed rows returns.
    func testScanFloorIgnoresExcludedBlockMaxima() {
        var rng = SplitMix64(seed: 41)
        let items = 2 * Model.groupBlocks * BlockScorer.blockRows + 100
        let model = Model.catalogue(items: items)
        var table = FactorTable(dimension: 8)
        for _ in 0..<items { table.values += (0..<8).map { _ in rng.nextSignedUnit() } }
        let bytes = ByteRows(mirroring: table)
        let bias = [Float](repeating: 0, count: items)
        for _ in 0..<3 {
            let vector = UserVector(values: (0..<8).map { _ in rng.nextSignedUnit() }, base: 0.5)
            var exact = [Float](repeating: 0, count: items)
            for row in 0..<items {
                for d in 0..<8 { exact[row] += vector.values[d] * table.values[row * 8 + d] }
            }
            // Every block's maximum is an excluded row, so a floor that
            // counted them would bar every allowed row of the group.
            var excluded = RowBitmap(rows: items)
            for start in stride(from: 0, to: items, by: BlockScorer.blockRows) {
                let rows = start ..< min(start + BlockScorer.blockRows, items)
                for row in rows.sorted(by: { exact[$0] > exact[$1] }).prefix(20) { excluded.insert(Int32(row)) }
            }
            let allowed = (0..<Int32(items)).filter { !excluded.contains(Int($0)) }
            for n in [1, 10] {
                let scanned = model.scan(n: n, vector: vector, table: table, bytes: bytes, bias: bias, candidates: nil,
                                         excluded: excluded, sharing: false)
                let reference = model.scan(n: n, vector: vector, table: table, bytes: bytes, bias: bias,
                                           candidates: allowed, excluded: RowBitmap(rows: 0))
                XCTAssertEqual(scanned.map(\.row), reference.map(\.row), "n \(n)")
            }
        }
    }

    /// A block whose maximum is below the floor but ties it once base is added is still scanned, so the earlier of two tied rows wins as in an exhaustive scan.
    func testScanFloorKeepsBlocksThatTieAfterBase() {
        let items = Model.groupBlocks * BlockScorer.blockRows
        let model = Model.catalogue(items: items)
        // Row 0 scores 0.25; the first row of blocks 1–5 scores 0.25 + 2⁻²⁵,
        // the floor of a shortlist of 5. With base 0.5 all six sum to 0.75.
        let high: Float = 0.25 + 0x1p-25
        XCTAssertEqual(0.5 + high, 0.5 + Float(0.25))
        var table = FactorTable(dimension: 8)
        table.values = [Float](repeating: 0, count: items * 8)
        table.values[1] = 1
        for b in 1...5 { table.values[b * BlockScorer.blockRows * 8] = 1 }
        let vector = UserVector(values: [high, 0.25, 0, 0, 0, 0, 0, 0], base: 0.5)
        let scanned = model.scan(n: 1, vector: vector, table: table, bytes: ByteRows(mirroring: table),
                                 bias: [Float](repeating: 0, count: items), candidates: nil,
                                 excluded: RowBitmap(rows: items), sharing: false)
        XCTAssertEqual(scanned.map(\.row), [0])
    }

    /// Merging lanes keeps the best n across them, and a tie between lanes goes to the lower row whichever lane holds it.
    func testMergeBreaksTiesAcrossLanesByRow() {
        let caller: [(score: Double, row: Int32)] = [(3, 40), (2, 41), (1, 42)]
        let helper: [(score: Double, row: Int32)] = [(3, 7), (2, 90), (2, 8)]
        let merged = Model.merge([caller, helper], n: 4)
        XCTAssertEqual(merged.map(\.row), [7, 40, 8, 41])
        XCTAssertEqual(merged.map(\.score), [3, 3, 2, 2])
        XCTAssertEqual(Model.merge([caller], n: 2).map(\.row), [40, 41])
    }
}
