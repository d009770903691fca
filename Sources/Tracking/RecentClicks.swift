import Synchronization

/// Clicks this process sent to a lander, with the offer once drawn, so a click-through finds
/// its click without a query (and while PostgreSQL is away, or before the click's batch is
/// committed). Two generations of at most `capacity` each: when the newer fills, the older is
/// dropped, so memory stays bounded (a few hundred bytes a click) and the last
/// `capacity`…`2 × capacity` clicks are held.
/// Older clicks are read from the database (`LanderClickStore`).
public final class RecentClicks: Sendable {
    public struct Entry: Sendable {
        public var click: Click
        public var offerID: Int64?
    }

    private struct Generations {
        var newer: [String: Entry] = [:]
        var older: [String: Entry] = [:]
    }

    private let state = Mutex(Generations())
    public let capacity: Int

    public init(capacity: Int = 10_000) { self.capacity = max(1, capacity) }

    /// Keeps what a click-through reads of the click (not its address, agent, referrer or URL:
    /// they were most of its bytes).
    public func remember(_ click: Click, offerID: Int64? = nil) {
        let capacity = capacity
        var click = click
        (click.ip, click.userAgent, click.referrer, click.destination) = ("", "", "", "")
        state.withLock {
            if $0.newer.count >= capacity {
                $0.older = $0.newer
                $0.newer = [:]
            }
            $0.newer[click.id] = Entry(click: click, offerID: offerID)
        }
    }

    public func entry(_ id: String) -> Entry? {
        state.withLock { $0.newer[id] ?? $0.older[id] }
    }

    /// The offer this click keeps: the one already set, else `draw()`'s, set now. Under the
    /// lock, so two click-throughs of one click at once get the same offer.
    public func keepOffer(for click: Click, known: Int64?, draw: () -> Int64?) -> Int64? {
        state.withLock { g in
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

    public var count: Int { state.withLock { $0.newer.count + $0.older.count } }
}
