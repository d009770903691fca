import Synchronization

/// The memory behind the 24-hour unique flag: visitor hashes (campaign, IP, user agent) kept in
/// one set per UTC hour, for the last 25 hours. A visitor is new when no set within the window
/// holds it; the window is whole hours, so "within 24 h" means 24 to 25 h. Work per click is a
/// few set lookups whatever the history; whole hours expire by dropping their set, and when the
/// sets hold `capacity` visitors the oldest hour goes early (a flood shortens the window rather
/// than growing memory). Per process: with several responders a visitor counts once per process.
public final class UniqueVisitors: Sendable {
    public static let windowHours = 25
    private let shards: [Shard]
    public let capacityPerShard: Int

    public final class Shard: Sendable {
        public let hours = Mutex<[(hour: Int, keys: Set<Int>)]>([])
    }

    /// `capacity`: visitors remembered in all, about 16 bytes each (1 M ≈ 16 MB).
    public init(capacity: Int = 1_000_000, shards: Int = 16) {
        self.shards = (0..<shards).map { _ in Shard() }
        capacityPerShard = max(1, capacity / shards)
    }

    /// True the first time `key` is seen within the window (which starts at that first visit:
    /// later visits do not extend it).
    public func isFirst(_ key: Int, at seconds: Double) -> Bool {
        let hour = Int((seconds / 3600).rounded(.down))
        let shard = shards[Int(UInt(bitPattern: key) % UInt(shards.count))]
        return shard.hours.withLock { hours in
            hours.removeAll { $0.hour <= hour - UniqueVisitors.windowHours }
            var seen = false
            var current: Int?
            for i in hours.indices {
                if hours[i].keys.contains(key), hours[i].hour <= hour { seen = true }
                if hours[i].hour == hour { current = i }
            }
            if seen { return false }
            if let current {
                hours[current].keys.insert(key)
            } else {
                hours.append((hour, [key]))
                hours.sort { $0.hour < $1.hour }
            }
            var total = hours.reduce(0) { $0 + $1.keys.count }
            while total > capacityPerShard, hours.count > 1 {
                total -= hours.removeFirst().keys.count
            }
            if total > capacityPerShard { hours[0].keys.removeAll(keepingCapacity: true) }
            return true
        }
    }

    /// Visitors remembered now (for tests and the health page).
    public var count: Int { shards.reduce(0) { sum, shard in sum + shard.hours.withLock { $0.reduce(0) { $0 + $1.keys.count } } } }
}
