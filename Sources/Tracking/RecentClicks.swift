import Synchronization

/// Clicks this process sent to a lander, with the offer once drawn, so a click-through finds
/// its click without a query (and while PostgreSQL is away, or before the click's batch is
/// committed). Sharded by click id (every lander click writes here: one lock would be the
/// flow campaign's bottleneck); each shard keeps two generations of at most its share of
/// `capacity`: when the newer fills, the older is dropped, so memory stays bounded (about
/// 1.4 KB a click with its parameters, measured: 20 000 held were 28 MB, so the responder keeps
/// 4 096…8 192) and the last `capacity`…`2 × capacity` clicks are held. Older clicks are read
/// from the database (`LanderClickStore`).
public final class RecentClicks: Sendable {
    public struct Entry: Sendable {
        public var click: Click
        public var offerID: Int64?
    }

    struct Generations {
        var newer: [String: Entry] = [:]
        var older: [String: Entry] = [:]
    }

    final class Shard: Sendable {
        let state = Mutex(Generations())
    }

    private let shards: [Shard]
    public let capacity: Int
    private let perShard: Int

    public static let defaultCapacity = 4_096

    public init(capacity: Int = RecentClicks.defaultCapacity, shards: Int = 16) {
        self.capacity = max(1, capacity)
        let count = max(1, min(shards, self.capacity))
        self.shards = (0..<count).map { _ in Shard() }
        perShard = max(1, self.capacity / count)
    }

    private func shard(_ id: String) -> Shard {
        var hasher = Hasher()
        hasher.combine(id)
        return shards[Int(UInt(bitPattern: hasher.finalize()) % UInt(shards.count))]
    }

    /// Keeps what a click-through reads of the click (not its address, agent, referrer or URL:
    /// they were most of its bytes).
    public func remember(_ click: Click, offerID: Int64? = nil) {
        var click = click
        (click.ip, click.userAgent, click.referrer, click.destination) = ("", "", "", "")
        let limit = perShard
        shard(click.id).state.withLock {
            if $0.newer.count >= limit {
                $0.older = $0.newer
                $0.newer = [:]
            }
            $0.newer[click.id] = Entry(click: click, offerID: offerID)
        }
    }

    public func entry(_ id: String) -> Entry? {
        shard(id).state.withLock { $0.newer[id] ?? $0.older[id] }
    }

    /// The offer this click keeps: the one already set, else `draw()`'s, set now. Under the
    /// shard's lock, so two click-throughs of one click at once get the same offer.
    public func keepOffer(for click: Click, known: Int64?, draw: () -> Int64?) -> Int64? {
        shard(click.id).state.withLock { g in
            if let kept = g.newer[click.id]?.offerID ?? g.older[click.id]?.offerID ?? known { return kept }
            guard let drawn = draw() else { return nil }
            if g.older[click.id] != nil {
                g.older[click.id]?.offerID = drawn
            } else {
                g.newer[click.id] = Entry(click: click, offerID: drawn)
            }
            return drawn
        }
    }

    public var count: Int { shards.reduce(0) { sum, shard in sum + shard.state.withLock { $0.newer.count + $0.older.count } } }
}
