/// Lets one log line per key through per interval and counts the rest, so a
/// flood of bad input cannot flood the log.
public struct RateLimiter<Key: Hashable> {
    public let interval: Double
    private var lastAllowed: [Key: Double] = [:]
    private var suppressed: [Key: Int] = [:]

    public init(interval: Double = 1) { self.interval = interval }

    /// Returns nil to stay quiet, or how many lines were suppressed since the
    /// last one let through.
    public mutating func allow(_ key: Key, now: Double) -> Int? {
        if let last = lastAllowed[key], now - last < interval {
            suppressed[key, default: 0] += 1
            return nil
        }
        lastAllowed[key] = now
        return suppressed.removeValue(forKey: key) ?? 0
    }
}
