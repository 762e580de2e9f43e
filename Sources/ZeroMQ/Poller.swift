import CZeroMQ

/// `zmq_poll` over a fixed list of sockets, for a single-threaded event loop.
public struct Poller {
    private var items: [zmq_pollitem_t]

    public init(_ sockets: [Socket]) {
        items = sockets.map { zmq_pollitem_t(socket: $0.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
    }

    /// Waits up to `timeoutMilliseconds` for input on the sockets whose `enabled`
    /// flag is set, and returns which of them are readable (by position).
    ///
    /// A signal interrupts the wait and returns with nothing readable, so the
    /// caller can check its stop flag at once.
    public mutating func poll(timeoutMilliseconds: Int, enabled: [Bool]) throws -> [Bool] {
        for i in items.indices {
            items[i].events = enabled[i] ? Int16(ZMQ_POLLIN) : 0
            items[i].revents = 0
        }
        let count = Int32(items.count)
        let ready = try items.withUnsafeMutableBufferPointer { buffer in
            try zmqCall("zmq_poll", retryOnInterrupt: false) {
                zmq_poll(buffer.baseAddress, count, timeoutMilliseconds)
            }
        }
        guard let ready, ready > 0 else { return Array(repeating: false, count: items.count) }
        return items.map { $0.revents & Int16(ZMQ_POLLIN) != 0 }
    }
}
