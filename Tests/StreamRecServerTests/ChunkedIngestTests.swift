import Foundation
import XCTest
import StreamRecCore
@testable import StreamRecServer

/// Ingest applied a chunk per write-lock hold (`Engine.check` then `Engine.apply`) means the same as applying each message whole.
final class ChunkedIngestTests: XCTestCase {
    private let limits = EventLimits(maxIDBytes: 24, maxAbsRating: 10)

    private func makeEngine() -> Engine {
        Engine(model: Model(settings: ModelSettings(factors: 4, learningRate: 0.05, regularization: 0.02, seed: 1)),
               limits: limits, maxMessageBytes: 1 << 20)
    }

    private func events(_ count: Int, _ rng: inout SplitMix64) -> [RatingEvent] {
        (0..<count).map { _ in
            RatingEvent(user: .number(rng.next() % 50), item: .number(rng.next() % 80), rating: Float(1 + rng.next() % 10))
        }
    }

    /// Binary and JSON messages of 0–1,000 events (with bad ones between) applied in chunks of 1, 7 and 64 give the model and counters of whole ingest, add up after every chunk, and the log they write rebuilds that model.
    func testChunksMatchWholeMessages() throws {
        var rng = SplitMix64(seed: 11)
        var messages: [[UInt8]] = []
        for count in [0, 1, 63, 64, 65, 129, 1000] {
            messages.append(BinaryFrame.encode(events(count, &rng)))
            messages.append(EventEncoder.jsonBatch(events(count, &rng)))
            var bad = events(count + 1, &rng)
            bad[bad.count / 2].rating = .nan
            messages.append(BinaryFrame.encode(bad))
            messages.append(Array(BinaryFrame.encode(events(count + 2, &rng)).dropLast()))
        }
        var whole = makeEngine()
        for message in messages { _ = message.withUnsafeBytes { whole.ingest($0) } }

        for chunk in [1, 7, 64] {
            let dir = e2eTemporaryDirectory(self, "chunks")
            var chunked = makeEngine()
            let start = chunked.model
            chunked.journal = LogWriter(directory: dir, policy: .no, nextSequence: 0, now: 0) { XCTFail($1) }
            for message in messages {
                switch message.withUnsafeBytes({ chunked.check($0) }) {
                case .failure(let rejection):
                    chunked.countRejected(rejection)
                case .success(var pending):
                    var holds = 0
                    repeat {
                        chunked.apply(&pending, upTo: chunk)
                        holds += 1
                        let c = chunked.counters
                        XCTAssertEqual(c.received, c.applied + c.rejectedTotal, "counters add up between chunks")
                    } while !pending.isDone
                    XCTAssertEqual(holds, max(1, (pending.count + chunk - 1) / chunk), "chunk \(chunk), \(pending.count) events")
                }
            }
            XCTAssertEqual(chunked.counters, whole.counters, "chunk \(chunk)")
            XCTAssertTrue(chunked.model == whole.model, "chunk \(chunk): chunks learned what whole messages learn")
            chunked.journal?.close(now: 1)
            var recovered = start
            let report = try LogRecovery.recover(model: &recovered, from: 0, directory: dir, repair: false)
            XCTAssertEqual(report.recordsApplied, 14, "one log record per accepted message, chunk \(chunk)")
            XCTAssertTrue(recovered == whole.model, "chunk \(chunk): the log rebuilds the model")
        }
    }

    /// `check` refuses a bad, broken, oversized or malformed message without changing anything, and nothing of it is applied or logged.
    func testRefusedMessagesApplyNothing() {
        var rng = SplitMix64(seed: 12)
        var engine = makeEngine()
        _ = BinaryFrame.encode(events(100, &rng)).withUnsafeBytes { engine.ingest($0) }
        let before = engine.model
        var bad = events(300, &rng)
        bad[299].rating = 11
        let refused: [[UInt8]] = [
            BinaryFrame.encode(bad),
            Array(BinaryFrame.encode(events(300, &rng)).dropLast(3)),
            Array("[{\"user\":1,\"item\":2,\"rating\":3},{\"user\":1}]".utf8),
            [UInt8](repeating: 0x20, count: (1 << 20) + 1),
        ]
        for message in refused {
            guard case .failure(let rejection) = message.withUnsafeBytes({ engine.check($0) }) else {
                return XCTFail("accepted a bad message of \(message.count) bytes")
            }
            engine.countRejected(rejection)
            XCTAssertTrue(engine.model == before, "\(rejection.reason): a refused message changed the model")
        }
        XCTAssertEqual(engine.counters.applied, 100)
        XCTAssertEqual(engine.counters.received, engine.counters.applied + engine.counters.rejectedTotal)
    }
}
