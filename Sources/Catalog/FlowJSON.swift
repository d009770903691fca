import Foundation
import Web

/// The API's view of a flow (docs/api.md): its paths with `{lander_id, weight}` and
/// `{offer_id, weight}` rows.
public struct FlowJSON: Encodable, Sendable {
    public struct Path: Encodable, Sendable {
        public var name: String
        public var rules: [FlowRule]
        public var landers: [LanderWeight]
        public var offers: [OfferWeight]
    }

    public struct LanderWeight: Encodable, Sendable {
        public var landerId: Int64
        public var weight: Int
    }

    public struct OfferWeight: Encodable, Sendable {
        public var offerId: Int64
        public var weight: Int
    }

    public var id: Int64
    public var name: String
    @Nullable public var workspaceId: Int64?
    public var paths: [Path]
    public var createdAt: Date
    public var updatedAt: Date

    public init(_ f: Flow) {
        id = f.id
        name = f.name
        workspaceId = f.workspaceID
        paths = f.paths.map { p in
            Path(
                name: p.name, rules: p.rules, landers: p.landers.map { LanderWeight(landerId: $0.id, weight: $0.weight) },
                offers: p.offers.map { OfferWeight(offerId: $0.id, weight: $0.weight) })
        }
        createdAt = f.createdAt
        updatedAt = f.updatedAt
    }
}
