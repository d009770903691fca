import Foundation
import Web

/// The API's view of an offer (docs/api.md).
public struct OfferJSON: Encodable, Sendable {
    public var id: Int64
    public var name: String
    @Nullable public var workspaceId: Int64?
    public var url: String
    public var payout: String
    public var currency: String
    @Nullable public var affiliateNetwork: String?
    @Nullable public var dailyCap: Int?
    public var status: String
    public var createdAt: Date

    public init(_ o: Offer) {
        id = o.id
        name = o.name
        workspaceId = o.workspaceID
        url = o.url
        payout = o.payout
        currency = o.currency
        affiliateNetwork = o.affiliateNetwork
        dailyCap = o.dailyCap
        status = o.status
        createdAt = o.createdAt
    }
}
