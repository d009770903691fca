import Catalog
import Foundation
import Postgres

/// Every live flow compiled for the click path, with the offers and landers each may use (its
/// own workspace's and the Public ones), loaded with the campaigns on the cache's connection.
public struct FlowCatalog: Sendable {
    public var flows: [Int64: CompiledFlow] = [:]

    public init(flows: [Int64: CompiledFlow] = [:]) { self.flows = flows }

    public static func load(on c: PostgresConnection) throws -> FlowCatalog {
        let offers = try OfferStore.all(on: c)
        let landers = try LanderStore.all(on: c)
        var catalog = FlowCatalog()
        for flow in try FlowStore.all(on: c) {
            let visibleOffers = offers.filter { $0.workspaceID == nil || $0.workspaceID == flow.workspaceID }
            let visibleLanders = landers.filter { $0.workspaceID == nil || $0.workspaceID == flow.workspaceID }
            catalog.flows[flow.id] = CompiledFlow(
                flow: flow, offers: visibleOffers.map(FlowOfferInfo.init), landers: visibleLanders.map(FlowLanderInfo.init))
        }
        return catalog
    }
}

extension FlowOfferInfo {
    init(_ offer: Offer) {
        self.init(
            id: offer.id, url: offer.url, active: offer.status == "active", dailyCap: offer.dailyCap, payout: Decimal(string: offer.payout),
            currency: offer.currency)
    }
}

extension FlowLanderInfo {
    init(_ lander: Lander) {
        self.init(id: lander.id, url: lander.url, active: lander.status == "active")
    }
}
