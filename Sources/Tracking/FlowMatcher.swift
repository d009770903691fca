import Catalog

/// A flow prepared for the click path (SPEC §9): built once from the `Flow` and its offers and
/// landers for the campaign cache to hold, so matching a click reads no database and converts
/// no rule value. A class: campaigns on one flow share it, and a lookup costs one retain.
///
/// Paths are tried in order; the first whose rules all match and that has an active, not
/// capped-out offer takes the click (so a lander is never shown with nowhere to send the
/// visitor on); none → `.fallback`. Offers and landers the flow lists but the caller did not
/// pass (deleted, or not visible) are skipped like paused ones.
public final class CompiledFlow: Sendable {
    public let flow: Flow
    let paths: [Path]

    struct Path: Sendable {
        let rules: [FlowRuleMatcher]
        let landers: [FlowLander]
        let landerWeights: FlowWeights
        /// In the path's order, nil where the offer is unknown (`/click/{n}` counts these too).
        let offers: [FlowOffer?]
        let offerWeights: FlowWeights

        func isUnavailable(_ index: Int, _ isCapped: (Int64) -> Bool) -> Bool {
            offers[index].map { isCapped($0.id) } ?? true
        }
    }

    public init(flow: Flow, offers: [FlowOfferInfo], landers: [FlowLanderInfo]) {
        self.flow = flow
        let offerByID = Dictionary(offers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let landerByID = Dictionary(landers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        paths = flow.paths.map { path in
            let pathOffers = path.offers.map { offerByID[$0.id].map(FlowOffer.init) }
            let activeOffers = path.offers.indices.filter { pathOffers[$0]?.info.active == true }
            let pathLanders = path.landers.compactMap { entry in
                landerByID[entry.id].flatMap { $0.active ? (FlowLander($0), entry.weight) : nil }
            }
            return Path(
                rules: path.rules.map(FlowRuleMatcher.init),
                landers: pathLanders.map(\.0),
                landerWeights: FlowWeights(pathLanders.indices.map { (index: $0, weight: pathLanders[$0].1) }),
                offers: pathOffers,
                offerWeights: FlowWeights(activeOffers.map { (index: $0, weight: path.offers[$0].weight) }))
        }
    }

    public var pathCount: Int { paths.count }

    /// Where `visit` goes. `isCapped(offerID)` says whether an offer reached its daily cap today.
    /// With a lander the offer is drawn later (`drawOffer`), at the click-through.
    public func match<G: RandomNumberGenerator>(
        _ visit: FlowVisit, isCapped: (Int64) -> Bool, using generator: inout G
    ) -> FlowDecision {
        for (index, path) in paths.enumerated() where path.rules.allSatisfy({ $0.matches(visit) }) {
            if !path.landerWeights.isEmpty {
                guard path.offerWeights.hasAny(skipping: { path.isUnavailable($0, isCapped) }),
                    let lander = path.landerWeights.draw(skipping: { _ in false }, using: &generator)
                else { continue }
                return .routed(FlowRoute(pathIndex: index, lander: path.landers[lander], offer: nil))
            }
            guard let offer = path.offerWeights.draw(skipping: { path.isUnavailable($0, isCapped) }, using: &generator) else { continue }
            return .routed(FlowRoute(pathIndex: index, lander: nil, offer: path.offers[offer]))
        }
        return .fallback
    }

    /// The same, with the capped-out offers as a set.
    public func match<G: RandomNumberGenerator>(_ visit: FlowVisit, capped: Set<Int64> = [], using generator: inout G) -> FlowDecision {
        match(visit, isCapped: { capped.contains($0) }, using: &generator)
    }

    /// The same, with the system's generator.
    public func match(_ visit: FlowVisit, capped: Set<Int64> = []) -> FlowDecision {
        var generator = SystemRandomNumberGenerator()
        return match(visit, isCapped: { capped.contains($0) }, using: &generator)
    }

    /// The offer for a lander's click-through (`/click`): drawn by weight among the path's
    /// offers active and not capped now. Nil when none is left or the path is gone (the flow
    /// was edited since; the caller sends the fallback URL).
    public func drawOffer<G: RandomNumberGenerator>(
        path index: Int, isCapped: (Int64) -> Bool, using generator: inout G
    ) -> FlowOffer? {
        guard paths.indices.contains(index) else { return nil }
        let path = paths[index]
        return path.offerWeights.draw(skipping: { path.isUnavailable($0, isCapped) }, using: &generator).flatMap { path.offers[$0] }
    }

    /// An offer the flow lists, in any path (a click keeps its offer when the flow is edited;
    /// nil once the offer is deleted or no longer visible).
    public func offer(id: Int64) -> FlowOffer? {
        for path in paths {
            if let hit = path.offers.first(where: { $0?.id == id }) { return hit }
        }
        return nil
    }

    /// The offer for `/click/{number}` (1-based, in the path's order, unknown offers counted):
    /// that offer when it is active and not capped, else one drawn as for `/click`.
    public func offer<G: RandomNumberGenerator>(
        path index: Int, number: Int, isCapped: (Int64) -> Bool, using generator: inout G
    ) -> FlowOffer? {
        guard paths.indices.contains(index) else { return nil }
        let offers = paths[index].offers
        if number >= 1, number <= offers.count, let offer = offers[number - 1], offer.info.active, !isCapped(offer.id) {
            return offer
        }
        return drawOffer(path: index, isCapped: isCapped, using: &generator)
    }
}
