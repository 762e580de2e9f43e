import ArgumentParser
import StreamRecCore

/// `streamrec inspect FILE`: what a snapshot or log segment holds and whether
/// it is intact, read offline (no daemon needed), like `redis-check-rdb`.
/// Exits 1 when the file is damaged, so scripts can check files with it.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a snapshot (.srs) or log segment (.srl): header, counts, checksum status.",
        discussion: """
        Reads the file from disk; the daemon need not run. Prints one `key: value` line per fact \
        and ends with `status: ok` or `status: damaged (...)`; exits 1 when damaged.
        """)
    @Argument(help: "A snapshot-*.srs or log-*.srl file.") var file: String

    func run() throws {
        let bytes: [UInt8]
        do { bytes = try AtomicFile.read(file) } catch {
            print("error: \(error)")
            throw ExitCode(2)
        }
        print("file: \(file)")
        print("bytes: \(bytes.count)")
        let damage: String? = bytes.withUnsafeBytes { raw in
            if raw.starts(with: WALFormat.magic) { return inspectLog(raw) }
            if raw.starts(with: SnapshotFormat.magic) { return inspectSnapshot(raw) }
            return "\(FormatError.badMagic)"
        }
        if let damage {
            print("status: damaged (\(damage))")
            throw ExitCode(1)
        }
        print("status: ok")
    }

    private func inspectSnapshot(_ raw: UnsafeRawBufferPointer) -> String? {
        print("type: snapshot")
        do {
            let header = try SnapshotFormat.header(of: raw)
            print("version: \(header.version)")
            print("log_position: \(header.logPosition)")
            print("payload_bytes: \(header.payloadLength)")
            let intact = header.storedChecksum == header.computedChecksum
            print("checksum: stored \(hex(header.storedChecksum)), computed \(hex(header.computedChecksum)): \(intact ? "ok" : "MISMATCH")")
            let (model, created, _) = try SnapshotFormat.decode(raw)
            print("created_ms: \(created)")
            print("users: \(model.users.count)")
            print("items: \(model.items.count)")
            print("model_events: \(model.eventsApplied)")
            print("rated_pairs: \(model.ratedPairs.count)")
            if model.hasNeighbourHead {
                print("likes: \(model.neighbourHead.liked.count)")
                print("neighbour_pairs: \(model.neighbourHead.neighbours.rows.reduce(0) { $0 + $1.count })")
            }
            print("reservoir_events: \(model.reservoir.events.count)")
            print("settings: \(model.settings)")
            return nil
        } catch {
            return "\(error)"
        }
    }

    private func inspectLog(_ raw: UnsafeRawBufferPointer) -> String? {
        print("type: log segment")
        do {
            var replayRecords = 0
            var replaySteps = 0
            let scan = try LogSegmentReader.scan(raw) { _, record in
                if case .replay(let count) = record {
                    replayRecords += 1
                    replaySteps += count
                }
            }
            print("version: \(WALFormat.version)")
            print("first_sequence: \(scan.first)")
            print("records: \(scan.recordCount) (sequence \(scan.first) ..< \(scan.end))")
            print("events: \(scan.eventCount)")
            print("replay_records: \(replayRecords) (\(replaySteps) replay steps)")
            print("valid_bytes: \(scan.validLength) of \(raw.count)")
            guard let damage = scan.damage else { return nil }
            print("checksum: intact records end at byte \(scan.validLength); then \(damage)")
            let fate = scan.tornTail
                ? "it looks like a torn tail, which recovery cuts, keeping a copy in \(file).damaged"
                : "intact records may follow: recovery skips this record when a snapshot holds it and the records after it "
                    + "check out, and otherwise stops replay here and cuts these bytes, keeping a copy in \(file).damaged"
            return "\(raw.count - scan.validLength) bytes after sequence \(scan.end) unreadable (\(fate)): \(damage)"
        } catch {
            return "header: \(error)"
        }
    }

    private func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }
}
