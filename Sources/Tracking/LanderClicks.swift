import Catalog
import Foundation
import Postgres

/// `/click` and `/click/{n}` (SPEC §3): the visitor of a click sent to a lander goes on to an
/// offer of the click's path, the same one on every repeat. The click comes from memory
/// (`RecentClicks`) or the database; the offer is the one kept for it, else `/click/{n}`'s,
/// else drawn by weight among the path's offers active and not capped now.
public final class LanderClicks: Sendable {
    public let recent: RecentClicks
    private let cache: CampaignCache
    private let database: PostgresPool?

    public init(cache: CampaignCache, database: PostgresPool?, capacity: Int = RecentClicks.defaultCapacity) {
        self.cache = cache
        self.database = database
        recent = RecentClicks(capacity: capacity)
    }

    public enum Outcome: Sendable {
        /// To the offer: `through` is the click-through to store before answering.
        case offer(url: String, through: ClickThrough)
        /// A click that went straight to its offer (no lander): there again, nothing stored.
        case direct(url: String)
        /// No offer for this click (no lander, its flow or offers gone): the campaign's fallback.
        case fallback(String)
        case notFound
    }

    /// What a click-through of click `id` does; `number` is `/click/{n}`'s n (1-based).
    public func resolve(clickID id: String, number: Int?, at now: Date) -> Outcome {
        guard let entry = recent.entry(id) ?? database.flatMap({ try? LanderClickStore.find(id, in: $0) }),
            let campaign = cache.campaign(id: entry.click.campaignID)
        else { return .notFound }
        let click = entry.click
        let fallback: Outcome = campaign.fallbackURL.map { .fallback($0) } ?? .notFound
        guard let flowID = click.flowID, let path = click.flowPath, let flow = cache.flow(id: flowID) else { return fallback }
        guard click.landerID != nil else {
            guard let offerID = click.offerID, let offer = flow.offer(id: offerID) else { return fallback }
            return .direct(url: url(offer, campaign, click))
        }
        var generator = SystemRandomNumberGenerator()
        let isCapped = { (offer: Int64) in self.cache.caps.isCapped(offer, at: now) }
        let kept = recent.keepOffer(for: click, known: entry.offerID) {
            if let number { return flow.offer(path: path, number: number, isCapped: isCapped, using: &generator)?.id }
            return flow.drawOffer(path: path, isCapped: isCapped, using: &generator)?.id
        }
        guard let offerID = kept, let offer = flow.offer(id: offerID) else { return fallback }
        var routed = click
        routed.offerID = offerID
        let destination = url(offer, campaign, routed)
        guard let through = ClickThrough(click: click, offerID: offerID, destination: destination, at: now) else { return fallback }
        return .offer(url: destination, through: through)
    }

    private func url(_ offer: FlowOffer, _ campaign: CachedCampaign, _ click: Click) -> String {
        var click = click
        click.offerID = offer.id
        return ClickRecorder.fill(offer.template, campaign, click: click, values: LanderClicks.values(of: click, campaign))
    }

    /// A stored click's parameters by name, for its tokens: the extras, the source's slots and
    /// the ad platform's click id.
    static func values(of click: Click, _ campaign: CachedCampaign) -> [String: String] {
        var values = click.extra
        for p in campaign.parameters {
            if let v = click.slots[p.slot] { values[p.name] = v }
        }
        if let param = campaign.clickIDParam, let id = click.externalID { values[param] = id }
        return values
    }
}
