/// The snapshot file format, version 3. All integers and floats are little-endian.
///
///     offset  size  field
///     0       8     magic "SRSNAP\r\n" (the CR LF, as in PNG, exposes text-mode mangling)
///     8       4     format version (3)
///     12      4     flags, 0 (reserved)
///     16      8     log position P: the sequence number of the first write-ahead
///                   log record this snapshot does NOT include (see `WALFormat`)
///     24      8     payload length L
///     32      L     payload, below
///     32+L    4     CRC-32 of bytes 0 ..< 32+L
///
/// Version 1 had no log position (its header was 24 bytes: the length sat at
/// 16). It is still read, as position 0: a v1 file predates the log, so a log
/// next to it was started by a v2 daemon from that very snapshot, at 0.
/// Versions 1 and 2 had no item-neighbour head and stored rated items as
/// per-user lists; they are still read, and the head starts empty with the
/// neighbour settings the caller gives (the daemon's configured ones), and
/// learns from the next likes on.
///
/// The log position sits in the header, not the payload, because it is log
/// metadata rather than model state, and because pruning old log segments
/// needs it from every kept snapshot: `logPosition(ofPrefix:)` reads it from
/// the first 32 bytes without decoding (or checksumming) the whole file.
///
/// Payload: the settings (u32 factors, f32 learning rate, f32 bias learning
/// rate, f32 regularization, u64 seed, f32 init scale, u8 optimizer, u32
/// negatives, f32 pairwise learning rate, f32 positive threshold, u8 sampler,
/// u32 reservoir size, u32 neighbour slots, u32 neighbour history, f32
/// neighbour exponent, f32 neighbour weight), u64 RNG state, u64 creation time (Unix ms), f64
/// rating sum, u64 rating count, f32 min and max rating, u64 events applied;
/// then the user IDs and item IDs (u32 count, then per ID a tag byte:
/// 0 = u64 integer, 1 = u16 length + UTF-8 text); then per side (users, then
/// items) k floats per row, one f32 bias, one f32 bias step count and one
/// f32 row gradient power per row; when pairwise ranking is on (negatives > 0)
/// the ranking head: k floats per user row, k floats per item row and one f32
/// ranking bias per item; then the rated pairs (u64 count, then per pair u64
/// user row << 32 | item row); when the neighbour head is on (neighbour
/// slots > 0) the likes (u32 count, then per like i32 item row and i32 index
/// of the same user's previous like or -1, then per user the i32 index of
/// their newest like or -1; see `SnapshotLikes.swift`) and per item its neighbours (u32 count, then
/// per neighbour i32 item row and u32 co-like count, in row order) and the
/// doorkeeper (u64 pairs recorded, u32 word count, the u64 words); then the reservoir (u32 count, u32 next slot, and per event
/// i32 user row, i32 item row, f32 rating).
///
/// Enums are stored as their position in `allCases`, so reordering a case is
/// a format change.
///
/// Rows are stored unpadded (k floats, not the in-memory SIMD stride), so a
/// change of SIMD width never changes the format. Popularity is not stored:
/// it is rebuilt from the rated pairs, which cannot then disagree with it.
/// The pairs are stored flat rather than grouped per user (as v2 did): the
/// model no longer keeps per-user lists, and a flat list loads with one copy. We rejected a self-describing format
/// (JSON, protobuf): the embeddings dominate the size, and raw floats load
/// with one copy per table. One checksum over the whole file (rather than per
/// section) is enough because a snapshot is only ever read whole.
public enum SnapshotFormat {
    public static let magic: [UInt8] = Array("SRSNAP\r\n".utf8)
    public static let version: UInt32 = 3
    static let headerSize = 32
    /// Longest text ID a snapshot can hold (the u16 length field).
    public static let maxTextIDBytes = Int(UInt16.max)

    /// Serializes `model`; `createdAtMillis` is stored for `inspect` and
    /// `stats`, `logPosition` for recovery (replay the log from there).
    public static func encode(_ model: Model, createdAtMillis: UInt64, logPosition: UInt64 = 0) -> [UInt8] {
        precondition(model.detachedNeighbourRatings == nil, "a snapshot needs the neighbour head, which is detached")
        let k = model.settings.factors
        let estimate = headerSize + 64 + (model.users.count + model.items.count) * (k * 4 + 16)
            + model.ratedPairs.count * 8 + model.neighbourHead.liked.count * 8 + model.users.count * 4
            + model.neighbourHead.neighbours.rows.reduce(0) { $0 + 4 + $1.count * 8 }
        var w = ByteWriter(capacity: estimate)
        w.append(raw: magic.withUnsafeBytes { $0 })
        w.append(version)
        w.append(UInt32(0))
        w.append(logPosition)
        w.append(UInt64(0))  // payload length, patched below

        let s = model.settings
        w.append(UInt32(s.factors)); w.append(s.learningRate); w.append(s.biasLearningRate)
        w.append(s.regularization); w.append(s.seed); w.append(s.initScale)
        w.append(UInt8(Optimizer.allCases.firstIndex(of: s.optimizer)!))
        w.append(UInt32(s.negatives)); w.append(s.pairwiseLearningRate); w.append(s.positiveThreshold)
        w.append(UInt8(NegativeSampler.allCases.firstIndex(of: s.sampler)!))
        w.append(UInt32(s.reservoirSize))
        w.append(UInt32(s.neighbourSlots)); w.append(UInt32(s.neighbourHistory))
        w.append(s.neighbourExponent); w.append(s.neighbourWeight)
        w.append(model.rng.state)
        w.append(createdAtMillis)
        w.append(model.ratingSum); w.append(model.ratingCount)
        w.append(model.minRating); w.append(model.maxRating)
        w.append(model.eventsApplied)

        for map in [model.users, model.items] {
            w.append(UInt32(map.count))
            for id in map.externals {
                switch id {
                case .number(let value):
                    w.append(UInt8(0)); w.append(value)
                case .text(let text):
                    w.append(UInt8(1)); w.append(UInt16(text.utf8.count))
                    w.append(contentsOf: Array(text.utf8))
                }
            }
        }
        let sides = [
            (model.userFactors, model.userBias, model.userBiasSteps, model.userRowPower),
            (model.itemFactors, model.itemBias, model.itemBiasSteps, model.itemRowPower),
        ]
        func appendRows(_ table: FactorTable) {
            table.values.withUnsafeBytes { raw in
                for row in 0..<table.rows {
                    w.append(raw: UnsafeRawBufferPointer(rebasing: raw[(row * table.stride * 4)..<((row * table.stride + k) * 4)]))
                }
            }
        }
        for (table, bias, biasSteps, rowPower) in sides {
            appendRows(table)
            w.append(contentsOf: bias)
            w.append(contentsOf: biasSteps)
            w.append(contentsOf: rowPower)
        }
        if model.hasRankingHead {
            appendRows(model.userRankFactors)
            appendRows(model.itemRankFactors)
            w.append(contentsOf: model.itemRankBias)
        }
        // Sorted, like the neighbours below, so equal models give equal files
        // whatever order their hash tables hold them in.
        w.append(UInt64(model.ratedPairs.count))
        w.append(contentsOf: model.ratedPairs.elements.sorted())
        if model.hasNeighbourHead {
            appendLikes(model.neighbourHead.liked, to: &w)
            for row in model.neighbourHead.neighbours.rows {
                w.append(UInt32(row.count))
                var held: [(key: Int32, count: UInt32)] = []
                row.forEach { held.append(($0, $1)) }
                for (key, c) in held.sorted(by: { $0.key < $1.key }) { w.append(key); w.append(c) }
            }
            w.append(UInt64(model.neighbourHead.neighbours.doorkeeper.recorded))
            w.append(UInt32(model.neighbourHead.neighbours.doorkeeper.words.count))
            w.append(contentsOf: model.neighbourHead.neighbours.doorkeeper.words)
        }
        w.append(UInt32(model.reservoir.events.count))
        w.append(UInt32(model.reservoir.next))
        w.append(contentsOf: model.reservoir.events)

        w.patch(UInt64(w.bytes.count - headerSize), at: 24)
        let checksum = w.bytes.withUnsafeBytes { crc32($0) }
        w.append(checksum)
        return w.bytes
    }

    /// What `inspect` shows about a snapshot without rebuilding the model.
    public struct Header: Sendable, Equatable {
        public var version: UInt32
        public var logPosition: UInt64
        public var payloadLength: UInt64
        public var storedChecksum: UInt32
        public var computedChecksum: UInt32
    }

    /// Checks magic, version, length and checksum; returns the header and a
    /// reader positioned at the payload.
    static func open(_ bytes: UnsafeRawBufferPointer) throws -> (Header, ByteReader) {
        var r = ByteReader(bytes)
        guard bytes.count >= magic.count,
              Array(try r.readBytes(count: magic.count, "magic")) == magic
        else { throw FormatError.badMagic }
        let version = try r.read(UInt32.self, "version")
        guard (1...Self.version).contains(version) else { throw FormatError.unsupportedVersion(version) }
        _ = try r.read(UInt32.self, "flags")
        let position = version == 1 ? 0 : try r.read(UInt64.self, "log position")
        let length = try r.read(UInt64.self, "payload length")
        guard length <= UInt64(r.remaining), r.remaining - Int(length) >= 4 else {
            throw FormatError.truncated("payload (header says \(length) bytes, file has \(max(0, r.remaining - 4)))")
        }
        let start = r.offset
        let end = start + Int(length)
        let computed = crc32(UnsafeRawBufferPointer(rebasing: bytes[0..<end]))
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: end, as: UInt32.self))
        let header = Header(version: version, logPosition: position, payloadLength: length,
                            storedChecksum: stored, computedChecksum: computed)
        guard stored == computed else { throw FormatError.checksumMismatch(stored: stored, computed: computed) }
        guard bytes.count == end + 4 else { throw FormatError.invalid("\(bytes.count - end - 4) bytes after the checksum") }
        return (header, ByteReader(UnsafeRawBufferPointer(rebasing: bytes[start..<end])))
    }

    /// Rebuilds a model from snapshot bytes, or says exactly what is wrong.
    ///
    /// A v1 or v2 file predates the neighbour head, so its neighbour
    /// settings come from `upgrade` (the daemon passes its configured ones:
    /// `--neighbour-slots 0` on the first start of the new version keeps an
    /// old model without the head).
    public static func decode(_ bytes: UnsafeRawBufferPointer, upgrade: ModelSettings = ModelSettings()) throws
        -> (model: Model, createdAtMillis: UInt64, logPosition: UInt64) {
        var (header, r) = try open(bytes)
        var s = ModelSettings()
        s.factors = Int(try r.read(UInt32.self, "factors"))
        s.learningRate = try r.readFloat("learning rate")
        s.biasLearningRate = try r.readFloat("bias learning rate")
        s.regularization = try r.readFloat("regularization")
        s.seed = try r.read(UInt64.self, "seed")
        s.initScale = try r.readFloat("init scale")
        s.optimizer = try readCase(&r, "optimizer")
        s.negatives = Int(try r.read(UInt32.self, "negatives"))
        s.pairwiseLearningRate = try r.readFloat("pairwise learning rate")
        s.positiveThreshold = try r.readFloat("positive threshold")
        s.sampler = try readCase(&r, "sampler")
        s.reservoirSize = Int(try r.read(UInt32.self, "reservoir size"))
        if header.version >= 3 {
            s.neighbourSlots = Int(try r.read(UInt32.self, "neighbour slots"))
            s.neighbourHistory = Int(try r.read(UInt32.self, "neighbour history"))
            s.neighbourExponent = try r.readFloat("neighbour exponent")
            s.neighbourWeight = try r.readFloat("neighbour weight")
        } else {
            s.neighbourSlots = upgrade.neighbourSlots
            s.neighbourHistory = upgrade.neighbourHistory
            s.neighbourExponent = upgrade.neighbourExponent
            s.neighbourWeight = upgrade.neighbourWeight
        }
        do { try s.validate() } catch { throw FormatError.invalid("\(error)") }

        var model = Model(settings: s)
        model.rng = SplitMix64(seed: try r.read(UInt64.self, "rng state"))
        let createdAt = try r.read(UInt64.self, "creation time")
        model.ratingSum = try r.readDouble("rating sum")
        model.ratingCount = try r.read(UInt64.self, "rating count")
        model.minRating = try r.readFloat("min rating")
        model.maxRating = try r.readFloat("max rating")
        model.eventsApplied = try r.read(UInt64.self, "events applied")

        model.users = try readIDs(&r, "user IDs")
        model.items = try readIDs(&r, "item IDs")
        let (users, items) = (model.users.count, model.items.count)
        model.userFactors.values = try readRows(&r, rows: users, table: model.userFactors, "user factors")
        model.userBias = try r.readArray(Float.self, count: users, "user biases")
        model.userBiasSteps = try r.readArray(Float.self, count: users, "user bias steps")
        model.userRowPower = try r.readArray(Float.self, count: users, "user row gradient power")
        model.itemFactors.values = try readRows(&r, rows: items, table: model.itemFactors, "item factors")
        model.itemBias = try r.readArray(Float.self, count: items, "item biases")
        model.itemBiasSteps = try r.readArray(Float.self, count: items, "item bias steps")
        model.itemRowPower = try r.readArray(Float.self, count: items, "item row gradient power")
        if model.hasRankingHead {
            model.userRankFactors.values = try readRows(&r, rows: users, table: model.userRankFactors, "user ranking factors")
            model.itemRankFactors.values = try readRows(&r, rows: items, table: model.itemRankFactors, "item ranking factors")
            model.itemRankBias = try r.readArray(Float.self, count: items, "item ranking biases")
        }
        model.scannedBytes = ByteRows(mirroring: model.scannedItems)

        model.popularity = [UInt32](repeating: 0, count: items)
        if header.version >= 3 {
            try readPairs(&r, into: &model)
            if model.hasNeighbourHead { try readNeighbourHead(&r, into: &model) }
        } else {
            try readRatedLists(&r, into: &model)
            if model.hasNeighbourHead {
                for _ in 0..<users { model.neighbourHead.liked.appendUser() }
                for _ in 0..<items { model.neighbourHead.neighbours.appendRow() }
            }
        }
        if model.hasNeighbourHead {
            for (i, count) in model.popularity.enumerated() { model.neighbourHead.neighbours.setPopularity(count, of: Int32(i)) }
        }
        let held = Int(try r.read(UInt32.self, "reservoir count"))
        let next = Int(try r.read(UInt32.self, "reservoir next slot"))
        guard held <= s.reservoirSize, next < max(1, s.reservoirSize) else {
            throw FormatError.invalid("reservoir holds \(held) events (next slot \(next)) but its size is \(s.reservoirSize)")
        }
        model.reservoir.events = try r.readArray(RecentEvent.self, count: held, "reservoir events")
        model.reservoir.next = next
        for event in model.reservoir.events where !(0..<Int32(users)).contains(event.user) || !(0..<Int32(items)).contains(event.item) {
            throw FormatError.invalid("reservoir event names user row \(event.user), item row \(event.item) out of range")
        }
        guard r.remaining == 0 else { throw FormatError.invalid("\(r.remaining) unread payload bytes") }
        return (model, createdAt, header.logPosition)
    }

    /// Reads the header only, for `inspect`: damaged checksums are reported, not thrown.
    public static func header(of bytes: UnsafeRawBufferPointer) throws -> Header {
        do {
            return try open(bytes).0
        } catch FormatError.checksumMismatch(let stored, let computed) {
            var r = ByteReader(bytes)
            _ = try r.readBytes(count: 8, "magic")
            let version = try r.read(UInt32.self, "version")
            _ = try r.read(UInt32.self, "flags")
            let position = version == 1 ? 0 : try r.read(UInt64.self, "log position")
            let length = try r.read(UInt64.self, "payload length")
            return Header(version: version, logPosition: position, payloadLength: length,
                          storedChecksum: stored, computedChecksum: computed)
        }
    }

    /// The log position from a file's first bytes, without verifying the rest:
    /// for pruning the log, where an unreadable snapshot simply prunes nothing.
    /// Nil unless `prefix` starts with a header of a version this build reads.
    public static func logPosition(ofPrefix prefix: UnsafeRawBufferPointer) -> UInt64? {
        var r = ByteReader(prefix)
        guard let head = try? r.readBytes(count: magic.count, "magic"), Array(head) == magic,
              let version = try? r.read(UInt32.self, "version"), (1...Self.version).contains(version)
        else { return nil }
        if version == 1 { return 0 }
        _ = try? r.read(UInt32.self, "flags")
        return try? r.read(UInt64.self, "log position")
    }

    /// Adds a rated pair while decoding, refusing rows out of range and repeats.
    private static func addPair(user u: Int, item i: Int, to model: inout Model) throws {
        guard (0..<model.users.count).contains(u), (0..<model.items.count).contains(i) else {
            throw FormatError.invalid("rated pair (user row \(u), item row \(i)) out of range: \(model.users.count) users, \(model.items.count) items")
        }
        guard model.ratedPairs.insert(PairSet.key(user: Int32(u), item: Int32(i))).inserted else {
            throw FormatError.invalid("user row \(u) rated item row \(i) twice")
        }
        model.popularity[i] += 1
    }

    /// The v3 rated pairs.
    private static func readPairs(_ r: inout ByteReader, into model: inout Model) throws {
        let count = try r.read(UInt64.self, "rated pair count")
        guard count <= UInt64(r.remaining / 8) else {
            throw FormatError.truncated("rated pairs (\(count) listed, room for \(r.remaining / 8))")
        }
        for _ in 0..<count {
            let pair = try r.read(UInt64.self, "rated pair")
            try addPair(user: Int(pair >> 32), item: Int(pair & 0xFFFF_FFFF), to: &model)
        }
    }

    /// The v1 and v2 per-user lists of rated items.
    private static func readRatedLists(_ r: inout ByteReader, into model: inout Model) throws {
        for u in 0..<model.users.count {
            let count = Int(try r.read(UInt32.self, "rated count of user \(u)"))
            for i in try r.readArray(Int32.self, count: count, "rated items of user \(u)") {
                try addPair(user: u, item: Int(i), to: &model)
            }
        }
    }

    /// The likes and the neighbour slots, range-checked.
    private static func readNeighbourHead(_ r: inout ByteReader, into model: inout Model) throws {
        let items = Int32(model.items.count)
        model.neighbourHead.liked = try readLikes(&r, users: model.users.count, items: model.items.count)
        let count = model.neighbourHead.liked.count
        for item in 0..<model.items.count {
            let held = Int(try r.read(UInt32.self, "neighbour count of item \(item)"))
            guard held <= model.settings.neighbourSlots else {
                throw FormatError.invalid("item row \(item) holds \(held) neighbours, over the limit \(model.settings.neighbourSlots)")
            }
            var row = NeighbourCounts()
            for _ in 0..<held {
                let key = try r.read(Int32.self, "neighbour row")
                let c = try r.read(UInt32.self, "neighbour count")
                guard (0..<items).contains(key), c > 0, UInt64(c) <= 2 * UInt64(count) + 2, row.count(of: key) == 0 else {
                    throw FormatError.invalid("item row \(item) holds neighbour row \(key) with count \(c) (out of range, zero or repeated)")
                }
                row.place(key, c)
            }
            model.neighbourHead.neighbours.rows.append(row)
            model.neighbourHead.neighbours.damping.append(1)  // set from popularity once all is read
        }
        let recorded = try r.read(UInt64.self, "doorkeeper pairs recorded")
        let words = Int(try r.read(UInt32.self, "doorkeeper size"))
        let sized = model.items.count == 0 ? words == 0 : words >= 128 && words & (words - 1) == 0
        guard sized, recorded <= UInt64(words * 4) else {
            throw FormatError.invalid("doorkeeper of \(words) words with \(recorded) pairs recorded for \(model.items.count) items (words must be a power of two ≥ 128, or 0 with no items; pairs ≤ 4 per word)")
        }
        model.neighbourHead.neighbours.doorkeeper.words = try r.readArray(UInt64.self, count: words, "doorkeeper")
        model.neighbourHead.neighbours.doorkeeper.recorded = Int(recorded)
    }

    private static func readCase<T: CaseIterable>(_ r: inout ByteReader, _ what: @autoclosure () -> String) throws -> T where T.AllCases == [T] {
        let index = Int(try r.read(UInt8.self, what()))
        guard index < T.allCases.count else { throw FormatError.invalid("unknown \(what()) #\(index)") }
        return T.allCases[index]
    }

    private static func readIDs(_ r: inout ByteReader, _ what: @autoclosure () -> String) throws -> IDMap {
        let count = Int(try r.read(UInt32.self, "\(what()) count"))
        // Each ID takes at least 3 bytes; refuse counts the file cannot hold
        // before reserving memory for them.
        try r.require(count * 3, for: what())
        var ids: [ExternalID] = []
        ids.reserveCapacity(count)
        for n in 0..<count {
            switch try r.read(UInt8.self, "\(what()) tag") {
            case 0:
                ids.append(.number(try r.read(UInt64.self, what())))
            case 1:
                let length = Int(try r.read(UInt16.self, "\(what()) length"))
                let text = String(decoding: try r.readBytes(count: length, what()), as: UTF8.self)
                guard ExternalID(text) == .text(text), !text.isEmpty else {
                    throw FormatError.invalid("\(what()) #\(n) is not canonical text: \"\(text)\"")
                }
                ids.append(.text(text))
            case let tag:
                throw FormatError.invalid("\(what()) #\(n) has unknown tag \(tag)")
            }
        }
        do { return try IDMap(externals: ids) } catch { throw FormatError.invalid("\(what()): \(error)") }
    }

    private static func readRows(_ r: inout ByteReader, rows: Int, table: FactorTable, _ what: @autoclosure () -> String) throws -> [Float] {
        let packed = try r.readArray(Float.self, count: rows * table.dimension, what())
        var values = [Float](repeating: 0, count: rows * table.stride)
        for row in 0..<rows {
            for f in 0..<table.dimension {
                values[row * table.stride + f] = packed[row * table.dimension + f]
            }
        }
        return values
    }
}

extension Model {
    /// Writes the model to `path` atomically (see `AtomicFile.write`) and
    /// returns the file's size in bytes.
    @discardableResult
    public func save(to path: String, createdAtMillis: UInt64 = 0) throws -> Int {
        let bytes = SnapshotFormat.encode(self, createdAtMillis: createdAtMillis)
        try bytes.withUnsafeBytes { try AtomicFile.write($0, to: path) }
        return bytes.count
    }

    /// Loads a model saved by `save(to:)`, rejecting damaged files with a `FormatError`.
    public static func load(from path: String) throws -> Model {
        try AtomicFile.read(path).withUnsafeBytes { try SnapshotFormat.decode($0).model }
    }
}
