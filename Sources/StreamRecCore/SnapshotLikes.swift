/// The likes section of a v3 snapshot: per like an i32 item row and the i32
/// index of the same user's previous like (-1 for their first), then per
/// user the i32 index of their newest like (-1: none).
///
/// The links are the v3 format as first written, from when the model kept
/// its likes as exactly this linked list. The model now keeps blocks of
/// likes per user (`LikedHistory`), but the section stays: it describes each
/// user's likes in order with nothing of the in-memory layout in it, so the
/// layout can change again without a format change. It is written user by
/// user, oldest like first, so equal histories give equal bytes whatever
/// order the likes arrived in; any order whose links point backwards is read.
extension SnapshotFormat {
    /// One like as stored.
    private struct Link: BitwiseCopyable {
        var item: Int32
        var previous: Int32
    }

    static func appendLikes(_ liked: LikedHistory, to w: inout ByteWriter) {
        w.append(UInt32(liked.count))
        var newest: [Int32] = []
        newest.reserveCapacity(liked.users)
        var ofUser: [Int32] = []
        var next: Int32 = 0
        for u in 0..<Int32(liked.users) {
            ofUser.removeAll(keepingCapacity: true)
            ofUser.append(contentsOf: liked.recent(u))
            for (n, item) in ofUser.reversed().enumerated() {
                w.append(item)
                w.append(n == 0 ? -1 : next - 1)
                next += 1
            }
            newest.append(ofUser.isEmpty ? -1 : next - 1)
        }
        w.append(contentsOf: newest)
    }

    /// Reads the section into a history of `users` users, checking that
    /// every link points backwards (so every walk ends) and that no like
    /// is in two users' lists.
    static func readLikes(_ r: inout ByteReader, users: Int, items: Int) throws -> LikedHistory {
        let count = Int(try r.read(UInt32.self, "like count"))
        let links = try r.readArray(Link.self, count: count, "likes")
        for (n, link) in links.enumerated() where !(0..<items).contains(Int(link.item)) || !(-1..<n).contains(Int(link.previous)) {
            throw FormatError.invalid("like #\(n) names item row \(link.item) and previous like \(link.previous)")
        }
        let newest = try r.readArray(Int32.self, count: users, "newest likes")
        var owned = [Bool](repeating: false, count: count)
        var history = LikedHistory()
        var ofUser: [Int32] = []
        for (u, head) in newest.enumerated() {
            guard (-1..<Int32(count)).contains(head) else {
                throw FormatError.invalid("user row \(u)'s newest like is #\(head) of \(count)")
            }
            history.appendUser()
            ofUser.removeAll(keepingCapacity: true)
            var cursor = Int(head)
            while cursor >= 0 {
                guard !owned[cursor] else { throw FormatError.invalid("like #\(cursor) is in two users' lists (user row \(u) is one)") }
                owned[cursor] = true
                ofUser.append(links[cursor].item)
                cursor = Int(links[cursor].previous)
            }
            for item in ofUser.reversed() { history.append(user: Int32(u), item: item) }
        }
        return history
    }
}
